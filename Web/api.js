// The workbench's JSON API (docs/api.md), and the pseudonymous identity that goes with every call.

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

// With accounts (cleave user add), the server sets an HttpOnly session cookie at sign-in and
// gives this token, which every state-changing call sends back (protection against other sites).
let csrfToken = null;
export function setCSRFToken(token) { csrfToken = token || null; }

// Called when the server answers 401 (accounts exist and nobody is signed in).
let signedOut = () => {};
export function onSignedOut(handler) { signedOut = handler; }

// The headers of every call: the browser's pseudonymous id and, when signed in, the CSRF token.
export function authHeaders() {
  const headers = { "X-Cleave-User": userId };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  return headers;
}

// An error from the API, with its status; `missing` when this server has no such route yet.
export class APIError extends Error {
  constructor(status, message, path, data = null) {
    super(message);
    this.status = status;
    this.path = path;
    this.data = data;   // the whole error body (e.g. a class's counts beside a 409)
    this.missing = status === 404 && /^no route for /.test(message);
  }
}

async function errorFrom(response, path) {
  if (response.status === 401 && path !== "/api/session") signedOut();
  let message = `${response.status} ${response.statusText}`, data = null;
  try {
    data = JSON.parse(await response.text());
    if (data && data.error) message = data.error;
  } catch { /* not JSON: keep the status line */ }
  return new APIError(response.status, message, path, data);
}

async function call(method, path, body, contentType = "application/json") {
  const headers = authHeaders();
  if (body !== undefined) headers["Content-Type"] = contentType;
  let response;
  try {
    response = await fetch(path, {
      method, headers,
      body: body === undefined ? undefined : contentType === "application/json" ? JSON.stringify(body) : body,
    });
  } catch (error) {
    throw new APIError(0, `cannot reach the Cleave server (${error.message})`, path);
  }
  if (!response.ok) throw await errorFrom(response, path);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// Fetches a file (TIFF, PNG, CSV, zip) as a Blob, with the same error handling as JSON calls.
export async function download(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new APIError(0, `cannot reach the Cleave server (${error.message})`, path);
  }
  if (!response.ok) throw await errorFrom(response, path);
  return response.blob();
}

// Upload with progress: fetch cannot report upload progress, XMLHttpRequest can.
function uploadWithProgress(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", path);
    for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    request.onload = () => {
      let data = null;
      try { data = JSON.parse(request.responseText); } catch { /* empty or not JSON */ }
      if (request.status >= 200 && request.status < 300) resolve(data);
      else {
        if (request.status === 401) signedOut();
        reject(new APIError(request.status, data?.error || `${request.status} ${request.statusText}`, path));
      }
    };
    request.onerror = () => reject(new APIError(0, "upload interrupted: the server closed the connection", path));
    request.send(file);
  });
}

const withSession = (body = {}) => ({ sessionId, clientTime: new Date().toISOString(), ...body });

export const api = {
  // Accounts: who is signed in ({accounts, user, csrfToken}), sign in, sign out, members
  session: () => call("GET", "/api/session"),
  signIn: (name, password) => call("POST", "/api/session", { name, password }),
  signOut: () => call("DELETE", "/api/session"),
  members: (projectId) => call("GET", `/api/projects/${projectId}/members`).then((r) => r.members),

  // Projects and images
  projects: () => call("GET", "/api/projects").then((r) => r.projects),
  createProject: (name) => call("POST", "/api/projects", { name }),
  // A project export zip as a new project: {project, images, classes, strokes, unrestoredPixels, ignoredEntries, source}.
  importProject: (file, onProgress) => uploadWithProgress(`/api/projects/import?sessionId=${sessionId}`, file, onProgress),
  renameProject: (projectId, name) => call("PUT", `/api/projects/${projectId}`, withSession({ name })),
  projectDeletion: (projectId) => call("GET", `/api/projects/${projectId}/deletion`),
  deleteProject: (projectId) => call("DELETE", `/api/projects/${projectId}?sessionId=${sessionId}`),
  renameImage: (imageId, name) => call("PUT", `/api/images/${imageId}`, withSession({ name })),
  imageDeletion: (imageId) => call("GET", `/api/images/${imageId}/deletion`),
  deleteImage: (imageId) => call("DELETE", `/api/images/${imageId}?sessionId=${sessionId}`),
  setConsent: (projectId, consent) => call("PUT", `/api/projects/${projectId}/consent`, withSession({ consent })),
  images: (projectId) => call("GET", `/api/projects/${projectId}/images`).then((r) => r.images),
  upload: (projectId, file, onProgress) =>
    uploadWithProgress(`/api/projects/${projectId}/images?name=${encodeURIComponent(file.name)}`, file, onProgress),
  image: (imageId) => call("GET", `/api/images/${imageId}`),
  regionOfInterest: (imageId) => call("GET", `/api/images/${imageId}/roi`),
  setRegionOfInterest: (imageId, body) => call("PUT", `/api/images/${imageId}/roi`, withSession(body)),
  window: (imageId, plane = 0, channel = 0) => {
    const query = [plane ? `plane=${plane}` : "", channel ? `channel=${channel}` : ""].filter(Boolean).join("&");
    return call("GET", `/api/images/${imageId}/window${query ? `?${query}` : ""}`);
  },
  // composite: "channel:low:high:rrggbb,…" (multi-channel images; replaces window).
  tileURL(imageId, level, x, y, window, plane = 0, composite = null) {
    const shown = composite ? `channels=${composite}` : window ? `low=${window.low}&high=${window.high}` : "";
    const query = [shown, plane ? `plane=${plane}` : ""].filter(Boolean).join("&");
    return `/api/images/${imageId}/tiles/${level}/${x}/${y}.png${query ? `?${query}` : ""}`;
  },

  // Strokes
  strokes: (imageId) => call("GET", `/api/images/${imageId}/strokes`).then((r) => r.strokes),
  addStroke: (imageId, stroke) => call("POST", `/api/images/${imageId}/strokes`, { sessionId, ...stroke }),
  undo: (imageId) => call("POST", `/api/images/${imageId}/strokes/undo`, { sessionId }).then((r) => r.stroke),
  redo: (imageId) => call("POST", `/api/images/${imageId}/strokes/redo`, { sessionId }).then((r) => r.stroke),

  // Events ("my data")
  postEvents: (events) => call("POST", "/api/events", { events }),
  myEvents: () => call("GET", "/api/events").then((r) => r.events),
  myEventsCSV: () => download("GET", "/api/events.csv"),
  deleteMyEvents: () => call("DELETE", "/api/events"),

  // Jobs
  job: (jobId) => call("GET", `/api/jobs/${jobId}`),
  cancelJob: (jobId) => call("POST", `/api/jobs/${jobId}/cancel`),

  // Cluster tool
  cluster: (imageId, params) => call("POST", `/api/images/${imageId}/cluster`, withSession(params)),
  clustering: (id) => call("GET", `/api/clusterings/${id}`),
  clusterings: (imageId) => call("GET", `/api/images/${imageId}/clusterings`).then((r) => r.clusterings),
  clusterAt: (id, x, y) => call("GET", `/api/clusterings/${id}/at?x=${Math.floor(x)}&y=${Math.floor(y)}`).then((r) => r.cluster),
  pickCluster: (id, cluster, name, classValue) =>
    call("POST", `/api/clusterings/${id}/pick`, withSession(classValue ? { cluster, name, class: classValue } : { cluster, name })),
  mergeClusters: (id, a, b) => call("POST", `/api/clusterings/${id}/merge`, withSession({ clusters: [a, b] })),
  decideClustering: (id, decision) => call("POST", `/api/clusterings/${id}/${decision}`, withSession()),
  clusterOverlayURL: (id, version) => `/api/clusterings/${id}/overlay.png?opacity=1&v=${version}`,

  // Classes, training, prediction
  classes: (projectId) => call("GET", `/api/projects/${projectId}/classes`).then((r) => r.classes),
  createClass: (projectId, name, colour) => call("POST", `/api/projects/${projectId}/classes`, withSession({ name, colour })),
  updateClass: (classId, changes) => call("PUT", `/api/classes/${classId}`, withSession(changes)),
  // Without discard, a class that labels strokes or corrections is refused (409, error.data has the counts).
  deleteClass: (classId, discard = false) =>
    call("DELETE", `/api/classes/${classId}?sessionId=${sessionId}${discard ? "&discard=true" : ""}`),
  setPixelSize: (imageId, size) => call("PUT", `/api/images/${imageId}/pixel-size`, withSession(size)),
  models: (projectId) => call("GET", `/api/projects/${projectId}/models`).then((r) => r.models),
  train: (imageId, params = {}) => call("POST", `/api/images/${imageId}/train`, withSession(params)),
  predict: (imageId, params = {}) => call("POST", `/api/images/${imageId}/predict`, withSession(params)),
  prediction: (id) => call("GET", `/api/predictions/${id}`),
  predictions: (imageId) => call("GET", `/api/images/${imageId}/predictions`).then((r) => r.predictions),
  decidePrediction: (id, decision) => call("POST", `/api/predictions/${id}/${decision}`, withSession()),
  predictionURL: (id, layer) => `/api/predictions/${id}/${layer}`,
  modelURL: (id, file) => `/api/models/${id}/${file}`,
  correctPrediction: (id, body) => call("POST", `/api/predictions/${id}/corrections`, withSession(body)),

  // Objects
  findObjects: (imageId, predictionId, classValue, minimumSize) =>
    call("POST", `/api/images/${imageId}/objects`, withSession({ predictionId, class: classValue, minimumSize })),
  objectSet: (id) => call("GET", `/api/objectsets/${id}`),
  objectSets: (imageId) => call("GET", `/api/images/${imageId}/objectsets`).then((r) => r.objectSets),
  reclassifyObject: (setId, objectId, className) =>
    call("POST", `/api/objectsets/${setId}/objects/${objectId}/class`, withSession({ class: className })),
  objectSetURL: (id, file) => `/api/objectsets/${id}/${file}`,

  // Reference data and export
  reference: (imageId) => call("GET", `/api/images/${imageId}/reference`),
  exportProject: (projectId, openData) => download("POST", `/api/projects/${projectId}/export`, withSession({ openData })),
};

// How job progress reached the page (for tests and the console).
export const jobStats = { streamed: 0, polled: 0 };

// Follows a job until it ends: server-sent events when the server streams them, polling otherwise.
// `onChange(job)` sees every state; resolves with the final job (done, failed or cancelled).
export function followJob(job, onChange) {
  const terminal = (j) => ["done", "failed", "cancelled"].includes(j.state);
  onChange(job);
  if (terminal(job)) return Promise.resolve(job);
  return new Promise((resolve) => {
    let finished = false;
    const finish = (j) => { if (!finished) { finished = true; onChange(j); resolve(j); } };
    const poll = async () => {
      jobStats.polled += 1;
      while (!finished) {
        try {
          const j = await api.job(job.id);
          if (terminal(j)) return finish(j);
          onChange(j);
        } catch (error) {
          return finish({ ...job, state: "failed", error: error.message });
        }
        await new Promise((r) => setTimeout(r, 400));
      }
    };
    if (typeof EventSource !== "function") return poll();
    const source = new EventSource(`/api/jobs/${job.id}/events`);
    let counted = false;
    source.addEventListener("job", (event) => {
      if (!counted) { counted = true; jobStats.streamed += 1; }
      const j = JSON.parse(event.data);
      if (terminal(j)) { source.close(); finish(j); } else onChange(j);
    });
    // The stream ends after a terminal state, or the server has no stream: ask once, then poll.
    source.onerror = () => { source.close(); if (!finished) poll(); };
  });
}
