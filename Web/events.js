// Interaction events, batched: queued as they happen, sent every few seconds or when the page hides.
import { api, authHeaders, sessionId } from "./api.js";

const queue = [];
let context = { projectId: undefined, imageId: undefined };
let timer = null;

export function setContext(next) { context = { ...context, ...next }; }

// Parts of the page that follow what the user does (the step guide) register here.
export const recorded = [];

export function record(type, payload = {}) {
  for (const listener of recorded) listener(type, payload);
  queue.push({ type, sessionId, projectId: context.projectId, imageId: context.imageId,
               clientTime: new Date().toISOString(), payload });
  if (queue.length >= 50) flush();
  else if (!timer) timer = setTimeout(flush, 3000);
}

export async function flush() {
  clearTimeout(timer);
  timer = null;
  if (queue.length === 0) return;
  const batch = queue.splice(0, queue.length);
  try {
    await api.postEvents(batch);
  } catch (error) {
    console.warn("events not sent, will retry:", error.message);
    queue.unshift(...batch);
    if (!timer) timer = setTimeout(flush, 10000);
  }
}

// keepalive lets the last batch leave while the page is closing.
addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "hidden" || queue.length === 0) return;
  const batch = queue.splice(0, queue.length);
  fetch("/api/events", { method: "POST", keepalive: true,
                         headers: { "Content-Type": "application/json", ...authHeaders() },
                         body: JSON.stringify({ events: batch }) }).catch(() => queue.unshift(...batch));
});

// Throttle: run at most once per `ms`, keeping the last call.
export function throttle(fn, ms) {
  let last = 0, pending = null;
  return (...args) => {
    const now = performance.now();
    clearTimeout(pending);
    if (now - last >= ms) { last = now; fn(...args); }
    else pending = setTimeout(() => { last = performance.now(); fn(...args); }, ms - (now - last));
  };
}
