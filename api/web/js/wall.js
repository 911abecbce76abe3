// Wall mode for the video wall: full screen, large type, rotating between the map, the ranking and
// the alerts every `seconds`. `?wall=1` in the URL starts in it (`&rotate=S` sets the interval).
const ROTATION = ["map", "ranking", "alerts"];

export class Wall {
  constructor(show, button, t) {
    this.show = show; // (view) => void
    this.button = button;
    this.t = t;
    this.timer = null;
    this.index = 0;
  }

  get on() { return this.timer !== null; }

  start(seconds) {
    document.body.classList.add("wall");
    document.documentElement.classList.add("wall"); // large type: rem follows the root's font size
    document.documentElement.requestFullscreen?.().catch(() => {}); // refused without a user gesture: fine
    this.index = 0;
    this.show(ROTATION[0]);
    this.timer = setInterval(() => {
      this.index = (this.index + 1) % ROTATION.length;
      this.show(ROTATION[this.index]);
    }, seconds * 1000);
    this.label();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    document.body.classList.remove("wall");
    document.documentElement.classList.remove("wall");
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    this.label();
  }

  label() {
    this.button.dataset.i18n = this.on ? "wall_exit" : "wall";
    this.button.textContent = this.t(this.button.dataset.i18n);
    this.button.setAttribute("aria-pressed", String(this.on));
  }
}
