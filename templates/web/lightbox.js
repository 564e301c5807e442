// The photo lightbox of a thread (web/_photos.html): each photo is an element #photo-N shown by CSS :target.
// This adds the keyboard: Escape closes, the left and right arrows move to the photo before or after, and
// the open photo's close link takes the focus, which goes back to its thumbnail once it closes.
(function () {
  "use strict";
  function open() {
    var target = location.hash.indexOf("#photo-") === 0 ? document.getElementById(location.hash.slice(1)) : null;
    return target && target.classList.contains("lightbox") ? target : null;
  }
  function follow(box, selector) {
    var link = box.querySelector(selector);
    if (link) { location.hash = link.getAttribute("href"); }
  }
  window.addEventListener("hashchange", function (event) {
    var box = open();
    if (box) {
      box.querySelector(".lightbox-close").focus();
      return;
    }
    var was = event.oldURL.split("#photo-")[1];
    var thumbnail = was && document.querySelector('ul.photos a[href="#photo-' + was + '"]');
    if (thumbnail) { thumbnail.focus(); }
  });
  document.addEventListener("keydown", function (event) {
    var box = open();
    if (!box || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === "Escape") { follow(box, ".lightbox-close"); }
    else if (event.key === "ArrowLeft") { follow(box, ".lightbox-previous"); }
    else if (event.key === "ArrowRight") { follow(box, ".lightbox-next"); }
    else { return; }
    event.preventDefault();
  });
  var box = open();
  if (box) { box.querySelector(".lightbox-close").focus(); }
}());
