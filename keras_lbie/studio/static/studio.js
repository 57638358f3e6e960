// lbie studio: the dialogue page. The server keeps each tab's dialogue
// under an id this script holds in memory (not a cookie, which tabs share).
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;

async function api(path, options = {}) {
  const response = await fetch(path, { method: "POST", ...options });
  let body;
  try {
    body = await response.json();
  } catch (error) {
    throw new Error(`the studio answered ${response.status} without a message.`);
  }
  if (!response.ok) throw new Error(body.error || `error ${response.status}`);
  return body;
}

const json = (value) => ({
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(value),
});

function showMessage(text, info = false) {
  $("message").textContent = text;
  $("message").className = info ? "info" : "";
}

async function guarded(action) {
  document.body.dataset.busy = "1";
  try {
    showMessage("");
    await action();
  } catch (error) {
    showMessage(error.message);
  } finally {
    delete document.body.dataset.busy;
  }
}

function sessionPath(action) {
  return `/api/sessions/${state.id}/${action}`;
}

function render(newState) {
  state = newState;
  $("model").replaceChildren(
    ...state.models.map(({ name, kind }) => {
      const option = new Option(`${name} (${kind})`, name);
      option.selected = name === state.model;
      return option;
    })
  );
  $("source").src = state.source;
  $("suggestions").replaceChildren(
    ...state.suggestions.map((sentence) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.textContent = sentence;
      chip.addEventListener("click", () => {
        $("sentence").value = sentence;
        $("sentence").focus();
      });
      return chip;
    })
  );
  $("turns").replaceChildren(...state.turns.map((turn) => turnItem(turn)));
  showCurrent();
}

function showCurrent() {
  const items = $("turns").children;
  const last = items[items.length - 1];
  const current = last ? last.querySelector("img.result").src : state.source;
  $("current").src = current;
  $("download").href = current;
  $("download").download = `lbie_turn${items.length}.png`;
  $("description").textContent = last
    ? `The model reads: ${last.dataset.description}`
    : "Say a sentence to edit the image; each sentence is one turn.";
}

// Distinct colours for sentence (or word) k: golden-ratio hues.
function unitColor(k) {
  return `hsla(${(k * 137.508) % 360}, 85%, 55%, 0.6)`;
}

function stepColor(step) {
  const [r, g, b] = state.step_colors[step % state.step_colors.length];
  return `rgba(${r}, ${g}, ${b}, 0.6)`;
}

function turnItem(turn) {
  const item = document.createElement("li");
  item.className = "turn";
  item.dataset.number = turn.number;
  item.dataset.description = turn.description;
  item.dataset.modelMs = turn.model_ms.toFixed(1);
  const heading = document.createElement("h2");
  heading.textContent = `Turn ${turn.number}: “${turn.text}” `;
  const timing = document.createElement("span");
  timing.className = "timing";
  timing.textContent = `model ${turn.model_ms.toFixed(0)} ms`;
  heading.append(timing);
  item.append(heading);
  const notes = [];
  if (turn.replaced.length) notes.push(`Replaces ${turn.replaced.join(" ")}`);
  if (turn.unknown_words.length) {
    notes.push(
      `Unknown to the model: ${turn.unknown_words.join(", ")} (it reads each as one unknown word).`
    );
  }
  if (notes.length) {
    const note = document.createElement("p");
    note.className = "notes";
    note.textContent = notes.join(" ");
    item.append(note);
  }
  const body = document.createElement("div");
  body.className = "body";
  const stage = document.createElement("div");
  stage.className = "stage";
  const image = new Image();
  image.className = "result";
  image.alt = `turn ${turn.number} result`;
  image.src = turn.image;
  const grid = document.createElement("div");
  grid.className = "grid";
  stage.append(image, grid);
  const side = document.createElement("div");
  const views = document.createElement("div");
  views.className = "views";
  const legend = document.createElement("ul");
  legend.className = "legend";
  side.append(views, legend);
  body.append(stage, side);
  item.append(body);
  const show = viewSwitcher(turn, grid, legend, views);
  addView(views, "Result", () => show(null));
  // Steps after every region has stopped changed nothing: no button.
  turn.attended.forEach((regions, step) => {
    if (regions.flat().some((unit) => unit >= 0)) {
      addView(views, `Step ${step + 1}`, () => show(step));
    }
  });
  addView(views, "Stop step", () => show("stop"));
  views.firstChild.click();
  return item;
}

function addView(views, label, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.addEventListener("click", () => {
    for (const other of views.children) other.classList.remove("active");
    button.classList.add("active");
    onClick();
  });
  views.append(button);
}

// Overlays on the result: the unit each region attended to at a step
// (blank once the region had stopped), or each region's stopping step.
function viewSwitcher(turn, grid, legend, views) {
  const rows = turn.stop_step.length;
  const columns = turn.stop_step[0].length;
  grid.style.gridTemplateRows = `repeat(${rows}, 1fr)`;
  grid.style.gridTemplateColumns = `repeat(${columns}, 1fr)`;
  return (view) => {
    const cells = [];
    const entries = [];
    for (let m = 0; m < rows; m += 1) {
      for (let n = 0; n < columns; n += 1) {
        const cell = document.createElement("span");
        if (view === "stop") {
          const step = turn.stop_step[m][n];
          cell.style.background = stepColor(step);
          cell.textContent = step + 1;
        } else if (view !== null) {
          const unit = turn.attended[view][m][n];
          if (unit >= 0) {
            cell.style.background = unitColor(unit);
            cell.textContent = unit + 1;
          }
        }
        cells.push(cell);
      }
    }
    if (view === "stop") {
      turn.attended.forEach((_, step) =>
        entries.push([stepColor(step), `stopped after step ${step + 1}`])
      );
    } else if (view !== null) {
      turn.units.forEach((unit, k) =>
        entries.push([unitColor(k), `${k + 1}. ${unit}`])
      );
    }
    grid.replaceChildren(...cells);
    legend.replaceChildren(
      ...entries.map(([color, text]) => {
        const entry = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = color;
        entry.append(swatch, text);
        return entry;
      })
    );
  };
}

async function say(event) {
  event.preventDefault();
  const text = $("sentence").value;
  await guarded(async () => {
    const start = performance.now();
    const turn = await api(sessionPath("say"), json({ text }));
    const item = turnItem(turn);
    await item.querySelector("img.result").decode();
    const roundTripMs = performance.now() - start;
    item.dataset.roundTripMs = roundTripMs.toFixed(1);
    item.querySelector(".timing").textContent =
      `model ${turn.model_ms.toFixed(0)} ms · server ${turn.server_ms.toFixed(0)} ms · round trip ${roundTripMs.toFixed(0)} ms`;
    $("turns").append(item);
    showCurrent();
    $("sentence").value = "";
  });
}

async function undo() {
  await guarded(async () => {
    const { turns } = await api(sessionPath("undo"));
    const items = $("turns");
    while (items.children.length > turns) items.lastChild.remove();
    showCurrent();
  });
}

async function upload() {
  const file = $("upload").files[0];
  $("upload").value = "";
  if (!file) return;
  await guarded(async () => {
    if (file.size > state.max_upload_bytes) {
      throw new Error(
        `${file.name} is larger than the ${state.max_upload_bytes / 2 ** 20} MB allowed.`
      );
    }
    render(
      await api(sessionPath("image"), {
        headers: { "Content-Type": "application/octet-stream" },
        body: file,
      })
    );
    showMessage(`Editing ${file.name}.`, true);
  });
}

async function start() {
  await guarded(async () => render(await api("/api/sessions")));
  $("say-form").addEventListener("submit", say);
  $("undo").addEventListener("click", undo);
  $("upload").addEventListener("change", upload);
  $("reset").addEventListener("click", () =>
    guarded(async () => render(await api(sessionPath("reset"))))
  );
  $("load-example").addEventListener("click", () =>
    guarded(async () =>
      render(
        await api(
          sessionPath("example"),
          json({ index: Number($("example-index").value) })
        )
      )
    )
  );
  $("model").addEventListener("change", () =>
    guarded(async () =>
      render(await api(sessionPath("model"), json({ model: $("model").value })))
    )
  );
  document.body.dataset.ready = "1";
}

start();
