// talentrules serve: previous and next person from the keyboard (j or the right arrow:
// next; k or the left arrow: previous), never while typing in the decision form.
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName))) return;
  var link = null;
  if (event.key === "j" || event.key === "ArrowRight") link = document.getElementById("next");
  if (event.key === "k" || event.key === "ArrowLeft") link = document.getElementById("prev");
  if (link) {
    event.preventDefault();
    window.location.href = link.href;
  }
});
