// The language menu takes effect as soon as a language is chosen. It lives here, not in an
// onchange attribute, because the Content-Security-Policy (script-src 'self') blocks inline handlers.
document.addEventListener("change", function (event) {
  if (event.target.id === "lang-select") {
    event.target.form.submit();
  }
});
