/* Runs first on every deck page: records every script error, failed resource and console.error
 * in window.deckErrors, so the self-test (selftest.js) can report them. */
window.deckErrors = [];
window.addEventListener("error", function (e) {
  if (e.target && e.target !== window) {
    window.deckErrors.push("resource failed to load: " + (e.target.src || e.target.href || e.target.tagName));
  } else {
    window.deckErrors.push("script error: " + e.message + " at line " + e.lineno);
  }
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.deckErrors.push("unhandled promise rejection: " + e.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.deckErrors.push("console.error: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
