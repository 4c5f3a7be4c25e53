// The workbench's JSON API, and the pseudonymous identity that goes with every call.

function randomId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// A random id kept by this browser: no name, no e-mail, nothing that identifies a person.
export const userId = localStorage.getItem("cleave.user") || (() => {
  const id = randomId();
  localStorage.setItem("cleave.user", id);
  return id;
})();
export const sessionId = randomId();

async function call(method, path, body, contentType = "application/json") {
  const headers = { "X-Cleave-User": userId };
  if (body !== undefined) headers["Content-Type"] = contentType;
  const response = await fetch(path, {
    method, headers,
    body: body === undefined ? undefined : contentType === "application/json" ? JSON.stringify(body) : body,
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(data && data.error ? data.error : `${response.status} ${response.statusText}`);
  return data;
}

export const api = {
  projects: () => call("GET", "/api/projects").then((r) => r.projects),
  createProject: (name) => call("POST", "/api/projects", { name }),
  images: (projectId) => call("GET", `/api/projects/${projectId}/images`).then((r) => r.images),
  upload: (projectId, file) =>
    call("POST", `/api/projects/${projectId}/images?name=${encodeURIComponent(file.name)}`, file, "application/octet-stream"),
  image: (imageId) => call("GET", `/api/images/${imageId}`),
  window: (imageId) => call("GET", `/api/images/${imageId}/window`),
  strokes: (imageId) => call("GET", `/api/images/${imageId}/strokes`).then((r) => r.strokes),
  addStroke: (imageId, stroke) => call("POST", `/api/images/${imageId}/strokes`, { sessionId, ...stroke }),
  undo: (imageId) => call("POST", `/api/images/${imageId}/strokes/undo`, { sessionId }).then((r) => r.stroke),
  redo: (imageId) => call("POST", `/api/images/${imageId}/strokes/redo`, { sessionId }).then((r) => r.stroke),
  postEvents: (events) => call("POST", "/api/events", { events }),
  tileURL(imageId, level, x, y, window) {
    const query = window ? `?low=${window.low}&high=${window.high}` : "";
    return `/api/images/${imageId}/tiles/${level}/${x}/${y}.png${query}`;
  },
};
