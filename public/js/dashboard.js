// @ts-check
/**
 * Keeps the server-rendered dashboard live: every [data-metric] element follows the document,
 * charts update in place (never re-created). The connection line is alpine-components.js `connection`.
 */
import { pageLive, startPageLive } from './page-live.js';

const root = /** @type {HTMLElement} */ (document.querySelector('[data-dashboard]'));

const COLORS = ['#64748b', '#2563eb', '#dc2626', '#16a34a'];

/** @param {any} doc @param {string} path */
const at = (doc, path) =>
  path.split('.').reduce((value, key) => (value == null ? undefined : value[key]), doc);

/**
 * A chart's fixed segments, in order, as the page names them (`data-labels`: a status chart's
 * statuses and their labels, declared once on the server); none for charts keyed by the document.
 * @param {HTMLCanvasElement} canvas
 * @returns {[key: string, label: string][]}
 */
const segmentsOf = (canvas) => Object.entries(JSON.parse(canvas.dataset.labels ?? '{}'));

/** @type {Map<HTMLCanvasElement, any>} */
const charts = new Map();

/** @param {HTMLCanvasElement} canvas @param {any} doc */
function chartData(canvas, doc) {
  const value = at(doc, canvas.dataset.path ?? '') ?? {};
  switch (canvas.dataset.chart) {
    case 'status': {
      const segments = segmentsOf(canvas);
      return {
        labels: segments.map(([, label]) => label),
        datasets: [{ data: segments.map(([key]) => value[key] ?? 0), backgroundColor: COLORS }],
      };
    }
    case 'roles':
      return {
        labels: Object.keys(value),
        datasets: [{ data: Object.values(value), backgroundColor: COLORS }],
      };
    case 'days':
      return {
        labels: Object.keys(value).map((d) => d.slice(5)),
        datasets: [{ label: 'Completed', data: Object.values(value), borderColor: COLORS[1], tension: 0 }],
      };
    default: {
      const projects = Object.values(value);
      return {
        labels: projects.map((p) => p.name),
        datasets: [
          { label: 'Done', data: projects.map((p) => p.done), backgroundColor: COLORS[3] },
          { label: 'Total', data: projects.map((p) => p.total), backgroundColor: COLORS[0] },
        ],
      };
    }
  }
}

/** The latest document, for the charts' click handlers. */
let latest = /** @type {any} */ (undefined);

/**
 * The list behind a chart segment: the canvas's data-href followed by the segment's key
 * (a status, a role, a project id); the daily line has none.
 * @param {HTMLCanvasElement} canvas @param {number} index
 */
function linkOf(canvas, index) {
  const base = canvas.dataset.href;
  if (!base) return undefined;
  const value = at(latest, canvas.dataset.path ?? '') ?? {};
  const key = canvas.dataset.chart === 'status' ? segmentsOf(canvas)[index]?.[0] : Object.keys(value)[index];
  return key === undefined ? undefined : `${base}${encodeURIComponent(key)}`;
}

/**
 * Counts: the value axis starts at zero, shows whole numbers only, and goes up to at least 4, so
 * a chart of zeros shows 0…4 (not −1…1) and small counts are not stretched over the whole height.
 * @param {string | undefined} kind
 */
function countScales(kind) {
  if (kind !== 'days' && kind !== 'projects') return undefined;
  const counts = { beginAtZero: true, suggestedMax: 4, ticks: { precision: 0, stepSize: 1 } };
  return kind === 'projects' ? { x: counts } : { y: counts };
}

/** @param {any} doc */
function renderCharts(doc) {
  latest = doc;
  const Chart = /** @type {any} */ (globalThis).Chart;
  if (!Chart) return;
  for (const canvas of /** @type {NodeListOf<HTMLCanvasElement>} */ (
    document.querySelectorAll('canvas[data-chart]')
  )) {
    const data = chartData(canvas, doc);
    // A ring of zeros draws nothing but its legend: say so in words instead.
    const ring = canvas.dataset.chart === 'status' || canvas.dataset.chart === 'roles';
    const empty = ring && data.datasets.every((set) => set.data.every((n) => !n));
    const note = /** @type {HTMLElement | null} */ (
      document.querySelector(`[data-chart-empty="${canvas.id}"]`)
    );
    if (note) note.hidden = !empty;
    // After Chart.js, which sets the canvas's display itself when it creates a chart.
    const show = () => {
      canvas.style.display = empty ? 'none' : 'block';
    };
    const existing = charts.get(canvas);
    if (existing) {
      // Update in place: same chart object, new numbers, no animation, no flicker.
      existing.data.labels = data.labels;
      for (const [i, set] of existing.data.datasets.entries()) set.data = data.datasets[i]?.data ?? [];
      existing.update('none');
      show();
      continue;
    }
    const kind = canvas.dataset.chart;
    const type = kind === 'days' ? 'line' : kind === 'projects' ? 'bar' : 'doughnut';
    charts.set(
      canvas,
      new Chart(canvas, {
        type,
        data,
        options: {
          animation: false,
          maintainAspectRatio: false,
          indexAxis: kind === 'projects' ? 'y' : 'x',
          plugins: { legend: { display: kind !== 'days' } },
          // A segment (or bar) opens the list it counts.
          onClick: (/** @type {any} */ _event, /** @type {any[]} */ elements) => {
            const url = elements[0] ? linkOf(canvas, elements[0].index) : undefined;
            if (url) location.assign(url);
          },
          onHover: (/** @type {any} */ _event, /** @type {any[]} */ elements) => {
            canvas.style.cursor = elements[0] && canvas.dataset.href ? 'pointer' : 'default';
          },
          scales: countScales(kind),
        },
      }),
    );
    show();
  }
}

/** Rows of the projects table follow the document's projects (added, removed, renamed). */
function renderProjects(/** @type {any} */ doc, live = false) {
  const body = document.querySelector('[data-projects]');
  if (!body || !doc.projects) return;
  const ids = Object.keys(doc.projects);
  const shown = [...body.querySelectorAll('tr[data-project]')].map(
    (tr) => /** @type {HTMLElement} */ (tr).dataset.project,
  );
  if (ids.join() === shown.join()) {
    for (const id of ids) {
      const cell = body.querySelector(`tr[data-project="${id}"] td a`);
      if (cell && cell.textContent !== doc.projects[id].name) {
        cell.textContent = doc.projects[id].name;
        if (live) flash(cell);
      }
    }
    return;
  }
  const before = new Set(shown);
  body.replaceChildren(
    ...ids.map((id) => {
      const tr = document.createElement('tr');
      tr.dataset.project = id;
      // The name links to the project's tasks, as the server renders it.
      const name = document.createElement('td');
      const link = document.createElement('a');
      link.href = `/tasks?project=${encodeURIComponent(id)}`;
      link.textContent = doc.projects[id].name;
      name.append(link);
      tr.append(name);
      for (const metric of [`projects.${id}.done`, `projects.${id}.total`]) {
        const td = document.createElement('td');
        td.dataset.metric = metric;
        tr.append(td);
      }
      if (live && !before.has(id)) flash(tr);
      return tr;
    }),
  );
}

/**
 * A number or row that a live change touched is highlighted for a moment (portal.css
 * `.changed`; without motion when the person asks for reduced motion).
 * @param {Element} el
 */
function flash(el) {
  el.classList.remove('changed');
  // Restart the animation when the same element changes again before it ended.
  void (/** @type {HTMLElement} */ (el).offsetWidth);
  el.classList.add('changed');
}
document.addEventListener('animationend', (event) => {
  if (event.target instanceof Element && event.animationName === 'changed')
    event.target.classList.remove('changed');
});

/** @param {any} doc @param {boolean} [live] from a live change (not the first snapshot) */
function render(doc, live = false) {
  if (doc.role !== root.dataset.role) {
    // A role change re-scopes the whole page: reload to get the right tiles and menus.
    location.reload();
    return;
  }
  const rows = new Set(document.querySelectorAll('[data-projects] tr[data-project]'));
  renderProjects(doc, live);
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('[data-metric]'))) {
    const value = at(doc, el.dataset.metric ?? '');
    const text = value === undefined ? '' : String(value);
    if (el.textContent === text) continue;
    el.textContent = text;
    // Numbers of a row just made are not changes (the new row is highlighted as a whole).
    const row = el.closest('tr');
    if (live && (!row || rows.has(row))) flash(el);
  }
  renderCharts(doc);
}

const live = pageLive();
live.addEventListener('snapshot', (event) => render(/** @type {CustomEvent} */ (event).detail.doc));
live.addEventListener('change', (event) => render(/** @type {CustomEvent} */ (event).detail.doc, true));
startPageLive();
