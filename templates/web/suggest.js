// Search as you type: ask /search/suggest after a short pause and list what completes the
// query (posts, people, groups the reader may see). Text is inserted with textContent only.
(function () {
  "use strict";
  var input = document.querySelector("form.search-page input[name=q]");
  var list = document.getElementById("suggestion-list");
  if (!input || !list) { return; }
  var timer = null;
  var latest = 0;
  function show(suggestions) {
    list.replaceChildren();
    suggestions.forEach(function (s) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = s.url;
      link.textContent = s.title;
      var kind = document.createElement("span");
      kind.className = "badge";
      kind.textContent = s.kind;
      item.append(kind, " ", link);
      list.append(item);
    });
    list.hidden = suggestions.length === 0;
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var typed = input.value;
    if (typed.trim().length < 2) { show([]); return; }
    timer = setTimeout(function () {
      var asked = ++latest;
      fetch("/search/suggest?q=" + encodeURIComponent(typed), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
        .then(function (answer) { if (asked === latest) { show(answer.suggestions); } })
        .catch(function () { show([]); });
    }, 120);
  });
}());
