/* The deck's self-test, run only when the page is opened with ?selftest (the browser test in
 * tests/check_slides.c does that in headless Chromium). It checks what a lecturer would notice:
 *   - no script error, failed resource or console.error since the page started;
 *   - no resource fetched at all: a deck must open with no network;
 *   - every slide fits 1280x720: nothing sticks out of the slide, no code line is cut off;
 *   - the keyboard reaches every slide (arrows, space, Home, End);
 * and writes one line per finding, then RESULT PASS or RESULT FAIL, into <pre id="selftest">. */
(function () {
  "use strict";
  if (!/[?&]selftest\b/.test(location.search)) return;
  var out = [];
  var failures = 0;
  function bad(msg) { failures++; out.push("FAIL " + msg); }
  var deck = window.slideDeck;
  if (!deck) {
    bad("deck.js did not start (window.slideDeck is missing)");
  } else {
    var n = deck.count;
    out.push("slides " + n);
    if (n < 1) bad("the deck has no slides");

    // Measure at scale 1: the slide box is then exactly 1280x720 CSS pixels.
    document.getElementById("deck").style.transform = "none";
    var overflowing = 0;
    for (var i = 0; i < n; i++) {
      deck.show(i);
      var s = deck.slides[i];
      var r = s.getBoundingClientRect();
      if (Math.round(r.width) !== 1280 || Math.round(r.height) !== 720) {
        bad("slide " + (i + 1) + " is " + r.width + "x" + r.height + ", not 1280x720");
      }
      var why = [];
      if (s.scrollWidth > s.clientWidth + 1 || s.scrollHeight > s.clientHeight + 1) {
        why.push("content is " + s.scrollWidth + "x" + s.scrollHeight);
      }
      var all = s.querySelectorAll("*");
      for (var k = 0; k < all.length; k++) {
        var el = all[k];
        var er = el.getBoundingClientRect();
        if (er.width === 0 && er.height === 0) continue;
        if (er.left < r.left - 1 || er.top < r.top - 1 || er.right > r.right + 1 || er.bottom > r.bottom + 1) {
          why.push("<" + el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? " class=" + el.className : "") +
                   "> reaches " + Math.round(er.right - r.left) + "x" + Math.round(er.bottom - r.top));
          break;
        }
        if (/(^| )col( |$)/.test(el.className) && el.scrollWidth > el.clientWidth + 1) {
          why.push("a column's content is " + el.scrollWidth + "px wide in " + el.clientWidth + "px");
        }
        if (el.tagName === "PRE" && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
          why.push("a code block is cut off (" + el.scrollWidth + "x" + el.scrollHeight + " in " + el.clientWidth + "x" + el.clientHeight + ")");
        }
      }
      if (why.length > 0) {
        overflowing++;
        bad("slide " + (i + 1) + " overflows 1280x720: " + why.join("; "));
      }
    }
    out.push("overflowing " + overflowing);
    // Scroll bars: none on the page at the scale the lecturer sees, none inside a slide.
    deck.fit();
    var docEl = document.documentElement;
    if (window.innerWidth > docEl.clientWidth || window.innerHeight > docEl.clientHeight) {
      bad("the page shows scroll bars in a " + window.innerWidth + "x" + window.innerHeight + " window");
    }
    var boxes = document.querySelectorAll("#deck *");
    for (var b = 0; b < boxes.length; b++) {
      var st = getComputedStyle(boxes[b]);
      if (/auto|scroll/.test(st.overflowX + st.overflowY)) {
        bad("<" + boxes[b].tagName.toLowerCase() + "> may show scroll bars (overflow: " + st.overflowX + " " + st.overflowY + ")");
      }
    }

    // Keyboard: walk forward with the arrow key and space, jump with End and Home.
    function key(k, shift) {
      document.dispatchEvent(new KeyboardEvent("keydown", { key: k, shiftKey: !!shift, bubbles: true, cancelable: true }));
      return deck.current();
    }
    function visible() {
      var v = [];
      for (var j = 0; j < n; j++) if (getComputedStyle(deck.slides[j]).display !== "none") v.push(j);
      return v;
    }
    deck.show(0);
    var seen = {}, reached = 1;
    seen[0] = true;
    for (var step = 1; step < n; step++) {
      var c = key(step % 2 ? "ArrowRight" : " ");
      var v = visible();
      if (v.length !== 1 || v[0] !== c) bad("after a key press slide " + (c + 1) + " is current but " + v.length + " slides are shown");
      if (!seen[c]) { seen[c] = true; reached++; }
    }
    out.push("reached " + reached);
    if (reached !== n) bad("the keyboard reached " + reached + " of " + n + " slides");
    if (key("End") !== n - 1) bad("End does not go to the last slide");
    if (key("ArrowRight") !== n - 1) bad("right arrow on the last slide moves");
    if (n > 1 && key("ArrowLeft") !== n - 2) bad("left arrow does not go back");
    if (n > 1 && key(" ", true) !== Math.max(0, n - 3)) bad("shift+space does not go back");
    if (key("Home") !== 0) bad("Home does not go to the first slide");
    if (key("ArrowLeft") !== 0) bad("left arrow on the first slide moves");
    deck.show(0);
  }

  var errors = window.deckErrors || [];
  out.push("errors " + errors.length);
  for (var e = 0; e < errors.length; e++) bad(errors[e]);
  var resources = performance.getEntriesByType ? performance.getEntriesByType("resource") : [];
  out.push("resources " + resources.length);
  for (var q = 0; q < resources.length; q++) bad("the page fetched " + resources[q].name);

  out.push("RESULT " + (failures === 0 ? "PASS" : "FAIL"));
  var pre = document.createElement("pre");
  pre.id = "selftest";
  pre.textContent = "SELFTEST-BEGIN\n" + out.join("\n") + "\nSELFTEST-END\n";
  document.body.appendChild(pre);
})();
