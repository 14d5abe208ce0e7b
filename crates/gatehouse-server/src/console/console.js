// Gatehouse admin console: the copy button of the one-time API key secret.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        field.select();
        document.execCommand("copy");
        done();
      });
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });
});
