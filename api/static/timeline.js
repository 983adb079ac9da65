// The timeline page's script: redraws the page for a date from the public API (same origin, no libraries).
"use strict";

(function () {
  const DAY_MS = 86400000;
  const STAGES = ["footprint", "partnership", "acs", "ics", "statutory_ics"];
  const $ = (id) => document.getElementById(id);
  const slider = $("day-slider");
  const picker = $("day-picker");
  const label = $("day-label");
  const counts = $("stage-counts");
  const labels = JSON.parse(counts.dataset.labels);
  const shortLabels = JSON.parse(counts.dataset.shortLabels);
  const first = slider.dataset.first;
  const last = slider.dataset.last;
  const names = new Map();
  let events = [];
  let corrections = new Map();
  let request = 0;
  let pending = null;

  const toIndex = (day) => Math.round((Date.parse(day) - Date.parse(first)) / DAY_MS);
  const toDay = (index) => new Date(Date.parse(first) + index * DAY_MS).toISOString().slice(0, 10);
  const slugName = (id) => names.get(id) || id.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase());
  const typeLabel = (type) => type.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/ ([A-Z])/g, (m) => m.toLowerCase());

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  async function getJSON(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  // Every item of a paginated listing (follows next_cursor).
  async function getAll(path) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const page = await getJSON(path + sep + "limit=500" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }

  function renderCounts(day, byStage) {
    let total = 0;
    for (const stage of STAGES) {
      const item = counts.querySelector(`[data-stage="${stage}"]`);
      const count = byStage[stage] || 0;
      total += count;
      item.dataset.count = String(count);
      item.querySelector(".count").textContent = String(count);
    }
    $("summary-day").textContent = day;
    $("summary-total").textContent = String(total);
    counts.dataset.asOf = day;
  }

  function renderSystems(systems) {
    const list = $("systems");
    for (const s of systems) names.set(s.id, s.name);
    list.replaceChildren(
      ...systems.map((s) => {
        const stage = s.stage || "none";
        const facts = [s.code, s.region ? slugName(s.region) : null, `${s.members.length} members`].filter(Boolean);
        return el(
          "li",
          {
            className: `system stage-${stage}` + (s.parent ? " sub-area" : ""),
            dataset: { id: s.id, stage, code: s.code || "", region: s.region || "", members: String(s.members.length) },
            title: [s.stage_term || "", s.members.map(slugName).join(", ")].filter(Boolean).join(": "),
          },
          el("span", { className: "system-name" }, s.name),
          el("span", { className: "system-stage" }, shortLabels[stage] || "no stage"),
          s.parent ? el("span", { className: "system-parent" }, `part of ${slugName(s.parent)}`) : null,
          el("span", { className: "system-facts" }, facts.join(" · ")),
        );
      }),
    );
  }

  // The stacked area chart of top-level systems by stage (GET /stats/series), with policies on the axis.
  const SVG = "http://www.w3.org/2000/svg";
  const W = 1000, H = 260, AXIS = 22;
  let series = [];

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    return node;
  }

  function xOf(day) {
    const span = Date.parse(last) - Date.parse(first);
    return ((Date.parse(day) - Date.parse(first)) / span) * W;
  }

  function renderChart(policies) {
    const chart = $("chart");
    const top = Math.max(1, ...series.map((p) => STAGES.reduce((n, s) => n + (p.by_stage[s] || 0), 0)));
    const yOf = (n) => (H - AXIS) - (n / top) * (H - AXIS - 6);
    const layers = [];
    const base = series.map(() => 0);
    for (const stage of STAGES) {
      const upper = series.map((p, i) => base[i] + (p.by_stage[stage] || 0));
      const forward = series.map((p, i) => `${xOf(p.as_of).toFixed(1)},${yOf(upper[i]).toFixed(1)}`);
      const back = series.map((p, i) => `${xOf(p.as_of).toFixed(1)},${yOf(base[i]).toFixed(1)}`).reverse();
      layers.push(svg("polygon", { points: [...forward, ...back].join(" "), class: `area stage-${stage}`,
                                   "data-stage": stage }));
      upper.forEach((n, i) => (base[i] = n));
    }
    const axis = [svg("line", { x1: 0, x2: W, y1: H - AXIS, y2: H - AXIS, class: "axis" })];
    for (let year = Number(first.slice(0, 4)); year <= Number(last.slice(0, 4)); year++) {
      const x = xOf(`${year}-01-01`);
      axis.push(svg("line", { x1: x, x2: x, y1: H - AXIS, y2: H - AXIS + 5, class: "axis" }));
      const text = svg("text", { x: x + 3, y: H - 4, class: "year" });
      text.textContent = String(year);
      axis.push(text);
    }
    const marks = policies.map((p) => {
      const mark = svg("line", { x1: xOf(p.published), x2: xOf(p.published), y1: 0, y2: H - AXIS,
                                 class: "policy-mark", "data-published": p.published });
      const tip = svg("title", {});
      tip.textContent = `${p.published}: ${p.title}`;
      mark.append(tip);
      return mark;
    });
    const cursor = svg("line", { id: "chart-cursor", x1: 0, x2: 0, y1: 0, y2: H - AXIS, class: "cursor" });
    chart.replaceChildren(...layers, ...axis, ...marks, cursor);
    chart.dataset.points = String(series.length);
    moveCursor(picker.value);
  }

  function moveCursor(day) {
    const cursor = $("chart-cursor");
    if (cursor) for (const key of ["x1", "x2"]) cursor.setAttribute(key, xOf(day).toFixed(1));
  }

  $("chart").addEventListener("click", (event) => {
    const box = event.currentTarget.getBoundingClientRect();
    const share = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    choose(toDay(Math.round(share * toIndex(last))), { now: true });
  });

  function renderTimeline(day) {
    let latest = null;
    for (const node of $("events").children) {
      const done = node.dataset.effective <= day;
      node.classList.toggle("done", done);
      node.classList.toggle("future", !done);
      node.classList.remove("latest");
      if (done) latest = node;
    }
    if (latest) {
      latest.classList.add("latest");
      const panel = $("events");
      panel.scrollTop = Math.max(0, latest.offsetTop - panel.clientHeight / 2); // keep the chosen date in view
    }
  }

  async function show(day) {
    const mine = ++request;
    $("status").textContent = `Loading ${day}…`;
    counts.setAttribute("aria-busy", "true");
    try {
      const [stats, systems] = await Promise.all([
        getJSON(`/stats?as_of=${day}`),
        getAll(`/organisations?as_of=${day}&kind=health_system`),
      ]);
      if (mine !== request) return; // a later date was chosen meanwhile
      renderSystems(systems);
      renderCounts(day, stats.by_stage);
      renderTimeline(day);
      moveCursor(day);
      $("status").textContent = "";
    } catch (error) {
      if (mine === request) $("status").textContent = `Could not load ${day}: ${error.message}`;
    } finally {
      if (mine === request) counts.removeAttribute("aria-busy");
    }
  }

  function choose(day, { now = false } = {}) {
    if (!day || day < first || day > last) return;
    slider.value = String(toIndex(day));
    picker.value = day;
    label.textContent = day;
    const url = new URL(window.location.href);
    url.searchParams.set("date", day);
    window.history.replaceState(null, "", url);
    clearTimeout(pending);
    if (now) show(day);
    else pending = setTimeout(() => show(day), 120);
  }

  function subjectsOf(group) {
    const ids = [];
    for (const record of group) {
      const scope = record.event.scope;
      if (scope && scope.stage) ids.push(`every ${labels[scope.stage] || scope.stage}`);
      else if (scope && scope.kind) ids.push(`every ${scope.kind.replace(/_/g, " ")}`);
      for (const id of record.subjects) if (!/^[0-9a-f]{8}-/.test(id)) ids.push(slugName(id));
    }
    return [...new Set(ids)];
  }

  function sourcesOf(group) {
    const seen = new Map();
    for (const record of group) {
      for (const source of record.event.sources) {
        const key = source.url || source.seed;
        if (!seen.has(key)) seen.set(key, source);
      }
    }
    return [...seen.values()];
  }

  function renderEvents() {
    // Consecutive events with the same date and type are one entry (e.g. the 44 footprints of March 2016).
    const sorted = [...events].sort((a, b) =>
      a.event.effective === b.event.effective ? a.position - b.position : a.event.effective < b.event.effective ? -1 : 1,
    );
    const groups = [];
    for (const record of sorted) {
      const group = groups[groups.length - 1];
      if (group && group[0].event.effective === record.event.effective && group[0].event.type === record.event.type) {
        group.push(record);
      } else {
        groups.push([record]);
      }
    }
    $("events").replaceChildren(
      ...groups.map((group) => {
        const effective = group[0].event.effective;
        const subjects = subjectsOf(group);
        const shown = subjects.slice(0, 6).join(", ") + (subjects.length > 6 ? ` and ${subjects.length - 6} more` : "");
        const sources = sourcesOf(group);
        const links = sources.slice(0, 4).map((s) =>
          s.url ? el("a", { href: s.url, rel: "noopener", target: "_blank" }, s.title) : el("span", {}, s.title),
        );
        const more = sources.length > 4 ? el("span", {}, `+${sources.length - 4} more sources`) : null;
        const jump = el("button", { type: "button", className: "event-date", title: `Show ${effective}` }, effective);
        const fixes = group.map((r) => corrections.get(r.id)).filter(Boolean);
        const corrected = fixes.length
          ? el("span", { className: "event-corrected" },
               ...fixes.map((c) => el("a", { href: `/events/${c.id}` },
                                      c.event.retract ? `retracted on ${c.recorded_at.slice(0, 10)}`
                                                      : `corrected on ${c.recorded_at.slice(0, 10)}`)))
          : null;
        jump.addEventListener("click", () => choose(effective, { now: true }));
        return el(
          "li",
          { className: "event" + (fixes.length ? " corrected" : ""), dataset: { effective, type: group[0].event.type } },
          jump,
          " ",
          el("span", { className: "event-type" }, typeLabel(group[0].event.type) + (group.length > 1 ? ` (${group.length})` : "")),
          subjects.length ? el("span", { className: "event-subjects" }, shown) : null,
          el("span", { className: "event-sources" }, "Sources: ", ...links, more),
          corrected,
        );
      }),
    );
  }

  function renderPolicies(policies) {
    const sorted = [...policies].sort((a, b) => (a.published < b.published ? -1 : 1));
    $("policies").replaceChildren(
      ...sorted.map((p) =>
        el(
          "li",
          { className: "policy", dataset: { id: p.id } },
          el("span", { className: "policy-date" }, p.published),
          el("a", { href: p.url, rel: "noopener", target: "_blank" }, p.title),
          ` (${p.publisher})`,
        ),
      ),
    );
  }

  async function loadHistory() {
    try {
      const [records, policies, everyone] = await Promise.all([
        getAll("/events"),
        getAll("/policies"),
        getAll(`/organisations?as_of=${last}`),
      ]);
      for (const o of everyone) if (!names.has(o.id)) names.set(o.id, o.name);
      corrections = new Map(
        records.filter((r) => r.event.type === "EventCorrected").map((r) => [r.event.corrects, r]),
      );
      events = records.filter((r) => r.event.type !== "EventCorrected");
      renderEvents();
      renderPolicies(policies);
      series = (await getJSON(`/stats/series?from=${first}&to=${last}&step=month`)).items;
      renderChart(policies);
      renderTimeline(picker.value);
    } catch (error) {
      $("events").replaceChildren(el("li", {}, `Could not load the events: ${error.message}`));
    }
  }

  slider.max = String(toIndex(last));
  slider.value = String(toIndex(picker.value));
  slider.addEventListener("input", () => choose(toDay(Number(slider.value))));
  slider.addEventListener("change", () => choose(toDay(Number(slider.value)), { now: true }));
  picker.addEventListener("change", () => choose(picker.value, { now: true }));
  show(picker.value);
  loadHistory();
})();
