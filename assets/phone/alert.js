// Getting the reporter's attention: a short beep made with WebAudio (no sound file), a
// vibration where the phone can, and a flash of the card. Browsers keep audio locked until
// the first tap on the page, so the first tap (or the login) unlocks it.

let audio = null;

export function unlockAudio() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    if (audio && audio.state === "suspended") audio.resume();
  } catch (err) {
    audio = null;
  }
}
document.addEventListener("pointerdown", unlockAudio, { once: true });

function beep(breaking) {
  unlockAudio();
  if (!audio) return;
  const start = audio.currentTime + 0.02;
  const notes = breaking ? [988, 0, 988, 0, 988] : [880, 1175]; // breaking: three sharp pips
  notes.forEach((freq, i) => {
    if (!freq) return;
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const at = start + i * 0.16;
    osc.type = "square";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.15);
  });
}

/** A new task arrived: sound, vibration (Chrome allows it only after a tap) and a flash. */
export function announce(task, card) {
  const breaking = task.priority === "breaking";
  beep(breaking);
  if (navigator.vibrate && navigator.userActivation && navigator.userActivation.hasBeenActive) {
    navigator.vibrate(breaking ? [300, 100, 300, 100, 300] : [200, 100, 200]);
  }
  if (card) {
    card.classList.remove("task-flash");
    void card.offsetWidth; // restart the animation
    card.classList.add("task-flash");
  }
}

let toastTimer = null;

/** A one-line message at the bottom of the screen for a few seconds. */
export function toast(text) {
  const el = document.getElementById("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}
