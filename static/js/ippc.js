// Behaviour the pages share, kept out of inline handlers so the Content-Security-Policy can forbid them.
// <form data-confirm="Delete X?">: asks before submitting.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);
