import { ConfigError } from './config-error';
import { applyHeapConfig, loadHeapConfig } from './heap.config';

describe('heap config', () => {
  it("takes the app's default, an explicit percentage, and 0 for V8's own heuristic", () => {
    expect(loadHeapConfig('consumer', 50, {})).toEqual({ growingPercent: 50 });
    expect(loadHeapConfig('consumer', 50, { HEAP_GROWING_PERCENT: '30' })).toEqual({ growingPercent: 30 });
    expect(loadHeapConfig('consumer', 50, { HEAP_GROWING_PERCENT: '0' })).toEqual({ growingPercent: 0 });
    // an empty value is unset, as everywhere in the configuration
    expect(loadHeapConfig('consumer', 50, { HEAP_GROWING_PERCENT: '' })).toEqual({ growingPercent: 50 });
  });

  it.each(['abc', '2.5', '-1', '5', '301'])('refuses %s and names the variable', (value) => {
    let error: unknown;
    try {
      loadHeapConfig('consumer', 50, { HEAP_GROWING_PERCENT: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('HEAP_GROWING_PERCENT');
  });

  it("sets V8's heap growing factor, and leaves V8 alone at 0", () => {
    const flags: string[] = [];
    applyHeapConfig({ growingPercent: 50 }, (f) => flags.push(f));
    applyHeapConfig({ growingPercent: 0 }, (f) => flags.push(f));
    expect(flags).toEqual(['--heap-growing-percent=50']);
  });
});
