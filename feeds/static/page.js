// Optional: filters the timeline in place (kind, topic, actor) and narrows the changes
// page to two points. Without it every page still works through its links.
(function () {
  "use strict";
  var list = document.getElementById("timeline");
  if (list) {
    var items = Array.prototype.slice.call(list.querySelectorAll("li.development"));
    var values = { kind: {}, topic: {}, actor: {} };
    items.forEach(function (li) {
      values.kind[li.dataset.kind] = true;
      (li.dataset.topics || "").split(" ").forEach(function (t) { if (t) values.topic[t] = true; });
      (li.dataset.actors || "").split("|").forEach(function (a) { if (a) values.actor[a] = true; });
    });
    var form = document.createElement("form");
    form.className = "js-filters";
    form.setAttribute("aria-label", "Filter this page");
    var selects = {};
    ["kind", "topic", "actor"].forEach(function (name) {
      var label = document.createElement("label");
      label.textContent = name.charAt(0).toUpperCase() + name.slice(1) + " ";
      var select = document.createElement("select");
      select.name = name;
      var all = document.createElement("option");
      all.value = ""; all.textContent = "all";
      select.appendChild(all);
      Object.keys(values[name]).sort().forEach(function (v) {
        var o = document.createElement("option");
        o.value = v; o.textContent = v;
        select.appendChild(o);
      });
      label.appendChild(select);
      form.appendChild(label);
      selects[name] = select;
    });
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    form.appendChild(status);
    form.addEventListener("change", function () {
      var k = selects.kind.value, t = selects.topic.value, a = selects.actor.value, shown = 0;
      items.forEach(function (li) {
        var ok = (!k || li.dataset.kind === k) &&
          (!t || (" " + li.dataset.topics + " ").indexOf(" " + t + " ") >= 0) &&
          (!a || ("|" + li.dataset.actors + "|").indexOf("|" + a + "|") >= 0);
        li.hidden = !ok;
        if (ok) shown += 1;
      });
      status.textContent = shown + " of " + items.length + " shown";
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    list.parentNode.insertBefore(form, list);
  }
  var changes = document.querySelector("form.changes-filter");
  if (changes) {
    changes.hidden = false;
    var point = function (text, fallback) {
      text = (text || "").trim();
      if (!text) return fallback;
      if (text.charAt(0) === "#") return { position: parseInt(text.slice(1), 10) };
      return { time: text };
    };
    var within = function (li, p, after) {
      if (p.position !== undefined) {
        var n = parseInt(li.dataset.position, 10);
        return after ? n > p.position : n <= p.position;
      }
      return after ? li.dataset.recorded > p.time : li.dataset.recorded.slice(0, p.time.length) <= p.time;
    };
    var apply = function () {
      var from = point(changes.elements.from.value, { position: 0 });
      var to = point(changes.elements.to.value, { position: Infinity });
      document.querySelectorAll("li.change").forEach(function (li) {
        li.hidden = !(within(li, from, true) && within(li, to, false));
      });
    };
    changes.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    var q = new URLSearchParams(location.search);
    if (q.get("from") || q.get("to")) {
      changes.elements.from.value = q.get("from") || "";
      changes.elements.to.value = q.get("to") || "";
      apply();
    }
  }
})();
