/* Newsroom Command: server-rendered list fragments (dashboards/fragments.py).
 *
 * An element with a data-html attribute shows that HTML (built and escaped by the server from
 * the same components the page would otherwise mount one by one); whenever the attribute
 * changes, its content is replaced. React never sees those children: the element has none in
 * the layout.
 */
(function () {
  "use strict";
  var ATTRIBUTE = "data-html";

  function show(element) {
    var fresh = element.getAttribute(ATTRIBUTE);
    if (fresh !== null && element.nrShown !== fresh) {
      element.nrShown = fresh;
      element.innerHTML = fresh;
    }
  }

  function scan(root) {
    if (root.nodeType !== 1) {
      return;
    }
    if (root.hasAttribute(ATTRIBUTE)) {
      show(root);
    }
    var found = root.querySelectorAll("[" + ATTRIBUTE + "]");
    for (var i = 0; i < found.length; i++) {
      show(found[i]);
    }
  }

  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      var record = records[i];
      if (record.type === "attributes") {
        show(record.target);
      } else {
        for (var j = 0; j < record.addedNodes.length; j++) {
          scan(record.addedNodes[j]);
        }
      }
    }
  }).observe(document.documentElement, {
    childList: true,
    subtree: true,
    attributes: true,
    attributeFilter: [ATTRIBUTE],
  });
  scan(document.documentElement);
})();
