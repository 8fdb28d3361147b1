// Async iteration of ReadableStream, which pdf.js's text extraction uses and the WebKit
// of some desktops (WebKitGTK 2.4x, Safari before 18) lacks.

const proto = ReadableStream.prototype as unknown as Record<symbol, unknown>;
if (typeof proto[Symbol.asyncIterator] !== "function") {
  proto[Symbol.asyncIterator] = async function* (this: ReadableStream<unknown>) {
    const reader = this.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  };
}

export {};
