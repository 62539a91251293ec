import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/**
 * Writes the e2e counts where `e2e/run-tests.ts` (the `npm test` driver) adds
 * them to the one closing `tests: …` line; prints them when run alone.
 */
export default class SummaryReporter implements Reporter {
  #passed = 0;
  #failed = 0;
  #skipped = 0;

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.retry < test.retries && result.status !== 'passed' && result.status !== 'skipped') return;
    if (result.status === 'passed') this.#passed++;
    else if (result.status === 'skipped') this.#skipped++;
    else this.#failed++;
  }

  async onEnd(result: FullResult): Promise<void> {
    // A run that failed outside any test (setup, config) counts as one failure.
    if (result.status !== 'passed' && this.#failed === 0) this.#failed = 1;
    const line = `tests: ${this.#passed} passed, ${this.#failed} failed, ${this.#skipped} skipped`;
    const out = process.env.TESSERA_E2E_SUMMARY;
    if (out === undefined) process.stdout.write(`\n${line}\n`);
    else {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(
        out,
        JSON.stringify({ passed: this.#passed, failed: this.#failed, skipped: this.#skipped }),
      );
    }
  }
}
