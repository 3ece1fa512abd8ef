/* Deck navigation: one slide shown at a time, scaled to fit the window.
 * Keys: right arrow, down arrow, Page Down, space, Enter: next; left arrow, up arrow, Page Up,
 * Backspace, Shift+space: back; Home: first; End: last. A click on the right two thirds of the
 * window goes forward, on the left third back. The slide number is kept in the address (#5), so
 * reloading the page or sharing the link opens the same slide. */
(function () {
  "use strict";
  var deck = document.getElementById("deck");
  var slides = Array.prototype.slice.call(document.querySelectorAll("#deck > .slide"));
  var current = -1;

  function show(i) {
    if (slides.length === 0) return;
    i = Math.max(0, Math.min(slides.length - 1, i));
    if (current >= 0) slides[current].classList.remove("current");
    current = i;
    slides[current].classList.add("current");
    var want = "#" + (current + 1);
    if (location.hash !== want) {
      try { history.replaceState(null, "", want); } catch (e) { /* a file: page may refuse */ }
    }
  }

  function fromHash() {
    var n = parseInt(location.hash.slice(1), 10);
    return isNaN(n) ? 0 : n - 1;
  }

  function fit() {
    var s = Math.min(window.innerWidth / 1280, window.innerHeight / 720);
    deck.style.transform = "scale(" + s + ")";
  }

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var k = e.key;
    if (k === "ArrowRight" || k === "ArrowDown" || k === "PageDown" || k === "Enter" ||
        (k === " " && !e.shiftKey)) show(current + 1);
    else if (k === "ArrowLeft" || k === "ArrowUp" || k === "PageUp" || k === "Backspace" ||
             (k === " " && e.shiftKey)) show(current - 1);
    else if (k === "Home") show(0);
    else if (k === "End") show(slides.length - 1);
    else return;
    e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    if (window.getSelection && String(window.getSelection()) !== "") return;
    show(current + (e.clientX < window.innerWidth / 3 ? -1 : 1));
  });
  window.addEventListener("hashchange", function () { show(fromHash()); });
  window.addEventListener("resize", fit);

  fit();
  show(fromHash());
  window.slideDeck = {
    show: show,
    current: function () { return current; },
    count: slides.length,
    slides: slides,
    fit: fit
  };
})();
