// Site-wide behaviour, kept out of the templates so the CSP can forbid inline scripts.
document.addEventListener("change", (event) => {
  if (event.target.matches(".js-autosubmit")) {
    event.target.form.submit();
  }
});
