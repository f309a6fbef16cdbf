// Sends the message to POST /chat/stream and shows the answer as its server-sent events arrive. A failure before the
// answer began comes back as problem details (RFC 7807) with its own status; one after it began as "event: error".
"use strict";

const messages = document.getElementById("messages");
const form = document.getElementById("chat-form");
const input = document.getElementById("message");
const send = document.getElementById("send");
const fault = document.getElementById("fault");

// What the page says for each failure kind when the server sent no detail of its own.
const friendly = {
  RateLimited: p => p.retryAfterSeconds ? `Rate limited, try again in ${p.retryAfterSeconds} s.` : "Rate limited, try again in a moment.",
  Timeout: () => "The AI service took too long to answer. Try again.",
  StreamInterrupted: () => "The answer was cut off. Try again.",
  ConnectFailure: () => "The AI service cannot be reached right now. Try again in a moment.",
};

function add(role, text) {
  const element = document.createElement("p");
  element.className = `message ${role}`;
  element.textContent = text;
  messages.append(element);
  return element;
}

function showError(answer, problem) {
  answer.dataset.state = "error";
  const box = document.createElement("div");
  box.className = "error";
  box.setAttribute("role", "alert");
  box.dataset.kind = problem?.kind ?? "Unknown";
  box.dataset.status = problem?.status ?? "";
  box.textContent = problem?.detail ?? friendly[problem?.kind]?.(problem) ?? problem?.title ?? "Something went wrong. Try again.";
  answer.after(box);
}

// Splits a chunk of the stream into complete SSE events; returns what is left over.
function takeEvents(buffer, onEvent) {
  let end;
  while ((end = buffer.indexOf("\n\n")) >= 0) {
    const event = { name: "message", data: "" };
    for (const line of buffer.slice(0, end).split("\n")) {
      if (line.startsWith("event:")) event.name = line.slice(6).trim();
      else if (line.startsWith("data:")) event.data += line.slice(5).trimStart();
    }
    onEvent(event);
    buffer = buffer.slice(end + 2);
  }
  return buffer;
}

async function chat(message) {
  add("user", message);
  const answer = add("assistant", "");
  answer.dataset.state = "waiting";
  let response;
  try {
    if (fault.value) await fetch(`/dev/faults/${encodeURIComponent(fault.value)}`, { method: "POST" });
    fault.value = "";
    response = await fetch("/chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: JSON.stringify({ message }),
    });
  } catch {
    showError(answer, { title: "This page cannot reach its server. Check your connection and try again." });
    return;
  }

  if (!response.ok) {
    const problem = await response.json().catch(() => ({ title: `The server answered ${response.status}.` }));
    showError(answer, problem);
    return;
  }

  answer.dataset.state = "streaming";
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = takeEvents(buffer + value, event => {
        if (event.name === "done") { ended = true; answer.dataset.state = "done"; }
        else if (event.name === "error") { ended = true; showError(answer, JSON.parse(event.data)); }
        else answer.textContent += JSON.parse(event.data).text;
      });
    }
  } catch { /* the connection broke: reported below */ }
  if (!ended) showError(answer, { title: "The answer stopped unexpectedly. Try again." });
}

form.addEventListener("submit", async e => {
  e.preventDefault();
  const message = input.value.trim();
  if (!message) return;
  input.value = "";
  send.disabled = true;
  try { await chat(message); } finally { send.disabled = false; input.focus(); }
});

// The fault menu appears only when the sample runs against its development server.
fetch("/dev/faults").then(r => r.ok ? r.json() : []).then(names => {
  for (const name of names) fault.add(new Option(name.replace("-", " "), name));
  document.getElementById("dev").hidden = names.length === 0;
}).catch(() => {});
