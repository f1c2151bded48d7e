// Behaviour the pages share, kept out of inline handlers so the Content-Security-Policy can forbid them.
// <form data-confirm="Delete X?">: asks before submitting.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
}, true);

// <input type="checkbox" data-select-all="NAME" form="F">: ticks or clears every enabled checkbox named
// NAME that belongs to form F (the rows of a list page), and follows them when they are ticked one by one.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
  var boxes = function (master) {
    return Array.prototype.filter.call(document.querySelectorAll('input[type="checkbox"][name="' + master.dataset.selectAll + '"]'), function (b) {
      return !b.disabled && (b.form || null) === (master.form || null);
    });
  };
  if (box.dataset.selectAll) {
    boxes(box).forEach(function (b) { b.checked = box.checked; });
    return;
  }
  document.querySelectorAll("input[data-select-all]").forEach(function (master) {
    if (master.dataset.selectAll !== box.name) return;
    var all = boxes(master);
    master.checked = all.length > 0 && all.every(function (b) { return b.checked; });
  });
});
