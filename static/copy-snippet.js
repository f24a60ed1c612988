/*
 * The setup page's "Copy snippet" button. A file, not an inline script, so
 * that the page's Content-Security-Policy can refuse every inline script.
 */
(function () {
  var button = document.getElementById("copy-snippet");
  var result = document.getElementById("copy-result");
  var code = document.getElementById(button.getAttribute("data-copy-target"));
  function selectCode() {
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  function fallback() {
    selectCode();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    result.textContent = copied ? "Copied." : "Selected: press Ctrl+C (or \u2318C) to copy.";
  }
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(code.textContent).then(function () {
        result.textContent = "Copied.";
      }, fallback);
    } else {
      fallback();
    }
  });
})();
