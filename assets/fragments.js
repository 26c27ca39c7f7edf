/* Newsroom Command: server-rendered list fragments (dashboards/fragments.py).
 *
 * An element with a data-html attribute shows that HTML (built and escaped by the server from
 * the same components the page would otherwise mount one by one); whenever the attribute
 * changes, its content is brought up to date. React never sees those children: the element
 * has none in the layout.
 *
 * The update is a morph, not an innerHTML replacement: the new HTML is parsed into a detached
 * template, and the live nodes are changed in place where they differ (a text, an attribute),
 * new nodes moved in only where the list grew or a node's tag changed, and the surplus
 * removed. A wall updates its lists every few seconds for days; replacing every row each time
 * made the renderer build new DOM, style and layout objects for rows that had not changed
 * (docs/performance.md, "Wall soak").
 */
(function () {
  "use strict";
  var ATTRIBUTE = "data-html";
  var parser = document.createElement("template");

  function syncAttributes(live, fresh) {
    var i, attr;
    for (i = live.attributes.length - 1; i >= 0; i--) {
      attr = live.attributes[i];
      if (!fresh.hasAttribute(attr.name)) {
        live.removeAttribute(attr.name);
      }
    }
    for (i = 0; i < fresh.attributes.length; i++) {
      attr = fresh.attributes[i];
      if (live.getAttribute(attr.name) !== attr.value) {
        live.setAttribute(attr.name, attr.value);
      }
    }
  }

  function same(live, fresh) {
    return live.nodeType === fresh.nodeType && live.nodeName === fresh.nodeName;
  }

  /* Make live's children look like fresh's (fresh's are consumed: moved in where needed). */
  function morphChildren(live, fresh) {
    var current = live.firstChild;
    var next = fresh.firstChild;
    while (next) {
      var following = next.nextSibling;
      if (!current) {
        live.appendChild(next);
      } else if (!same(current, next)) {
        var replaced = current;
        current = current.nextSibling;
        live.replaceChild(next, replaced);
        next = following;
        continue;
      } else {
        if (current.nodeType === 1) {
          syncAttributes(current, next);
          morphChildren(current, next);
        } else if (current.nodeValue !== next.nodeValue) {
          current.nodeValue = next.nodeValue;
        }
        current = current.nextSibling;
      }
      next = following;
    }
    while (current) {
      var surplus = current;
      current = current.nextSibling;
      live.removeChild(surplus);
    }
  }

  function show(element) {
    var fresh = element.getAttribute(ATTRIBUTE);
    if (fresh !== null && element.nrShown !== fresh) {
      element.nrShown = fresh;
      parser.innerHTML = fresh;
      morphChildren(element, parser.content);
      parser.innerHTML = "";
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
