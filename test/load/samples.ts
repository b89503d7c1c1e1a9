// Latency samples a worker thread collects during a step, handed over as one typed array.

/** A growing array of float samples. */
export class Samples {
  private data = new Float32Array(1 << 14);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  take(): Float32Array {
    return this.data.slice(0, this.length);
  }
}
