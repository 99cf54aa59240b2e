import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileCondition } from '../../src/rules/expr/compile';
import { SensorEnv, Quality } from '../../src/rules/expr/env';
import { ExprError } from '../../src/rules/expr/lexer';

function envWith(values: Record<string, number | string>, now = 10_000): SensorEnv {
  const env = new SensorEnv();
  for (const [id, v] of Object.entries(values)) {
    const s = env.slot(id);
    env.values[s] = v;
    env.ts[s] = now;
    env.fresh[s] = now;
    env.quality[s] = Quality.GOOD;
  }
  env.now = now;
  return env;
}

function evalWith(src: string, values: Record<string, number | string>): boolean {
  const env = envWith(values);
  return compileCondition(src, env).eval(env);
}

function errorAt(src: string, known?: string[]): { offset: number; message: string } {
  try {
    compileCondition(src, new SensorEnv(), known ? { isKnownSensor: (id) => known.includes(id) } : {});
  } catch (err) {
    assert.ok(err instanceof ExprError, `expected ExprError, got ${String(err)}`);
    return { offset: err.offset, message: err.message };
  }
  assert.fail(`expected "${src}" to fail`);
}

test('arithmetic precedence: * before +, unary minus, parentheses, %', () => {
  assert.equal(evalWith('1 + 2 * 3 == 7', {}), true);
  assert.equal(evalWith('(1 + 2) * 3 == 9', {}), true);
  assert.equal(evalWith('-2 * -3 == 6', {}), true);
  assert.equal(evalWith('10 - 4 - 3 == 3', {}), true); // left-associative
  assert.equal(evalWith('7 % 4 == 3', {}), true);
  assert.equal(evalWith('2 * 3 % 4 == 2', {}), true);
});

test('logical precedence: not > and > or', () => {
  // false or (true and true) → true; (false or true) and true would also be true, so pick a case that differs:
  // true or (false and false) → true; (true or false) and false → false
  assert.equal(evalWith('true or false and false', {}), true);
  assert.equal(evalWith('not false and false', {}), false); // (not false) and false
  assert.equal(evalWith('not 1 > 2', {}), true); // not (1 > 2)
  assert.equal(evalWith('1 < 2 && !(3 < 2) || false', {}), true);
});

test('sensor references with dots, backtick ids, and functions', () => {
  assert.equal(evalWith('furnace.temp > 80', { 'furnace.temp': 81 }), true);
  assert.equal(evalWith('furnace.temp > 80', { 'furnace.temp': 80 }), false);
  assert.equal(evalWith('`pump-1.flow` < 0.5', { 'pump-1.flow': 0.2 }), true);
  assert.equal(evalWith('abs(a - b) > 5 and max(a, b, 3) == 20 and min(a, b) == 12', { a: 12, b: 20 }), true);
  assert.equal(evalWith('door.state == "open"', { 'door.state': 'open' }), true);
  assert.equal(evalWith("door.state != 'open'", { 'door.state': 'open' }), false);
});

test('a text value in arithmetic is NaN: comparisons are false', () => {
  assert.equal(evalWith('x > 1', { x: 'hello' }), false);
  assert.equal(evalWith('x <= 1', { x: 'hello' }), false);
});

test('a sensor never seen reads as NaN and its age counts from load', () => {
  const env = new SensorEnv();
  const c = compileCondition('t > 1 or age(t) >= 5s', env);
  env.ts[env.slot('t')] = 1000;
  env.now = 5999;
  assert.equal(c.eval(env), false);
  env.now = 6000;
  assert.equal(c.eval(env), true);
});

test('quality and staleness functions', () => {
  const env = envWith({ a: 1 }, 1000);
  const s = env.slot('a');
  env.maxAge[s] = 500;
  const stale = compileCondition('stale(a)', env);
  const bad = compileCondition('bad(a)', env);
  const good = compileCondition('good(a)', env);
  env.now = 1500;
  assert.equal(stale.eval(env), false);
  env.now = 1501;
  assert.equal(stale.eval(env), true);
  // A sample held back by a deadband (env.fresh moves, the reading stays) keeps it fresh.
  env.fresh[s] = 1400;
  assert.equal(stale.eval(env), false);
  env.quality[s] = Quality.BAD;
  assert.equal(bad.eval(env), true);
  assert.equal(good.eval(env), false);
});

test('duration literals are milliseconds', () => {
  assert.equal(evalWith('1m == 60000 and 2s == 2000 and 250ms == 250 and 1h == 3600000', {}), true);
});

test('parse errors carry the column offset', () => {
  assert.deepEqual(errorAt('a > '), { offset: 3, message: 'unexpected end of expression; expected a value' });
  assert.equal(errorAt('a = 3').offset, 2);
  assert.match(errorAt('a = 3').message, /use ==/);
  assert.equal(errorAt('(a > 1').offset, 6);
  assert.equal(errorAt('a > 1 b').offset, 6);
  assert.equal(errorAt('a < b < c').offset, 6);
  assert.equal(errorAt('x > 5 and foo(x)').offset, 10);
  assert.match(errorAt('x > 5 and foo(x)').message, /unknown function "foo"/);
  assert.equal(errorAt('x > 5q').offset, 5);
});

test('type errors: a condition must be true/false; and/or need conditions', () => {
  assert.match(errorAt('a + 1').message, /a condition must be true or false/);
  assert.equal(errorAt('a > 1 and b').offset, 10);
  assert.equal(errorAt('true + 1').offset, 0);
  assert.match(errorAt('"x" == 1').message, /cannot compare/);
});

test('unknown sensors are reported at their column', () => {
  assert.deepEqual(errorAt('furnace.temp > 80 and pump.flo < 1', ['furnace.temp', 'pump.flow']), { offset: 22, message: 'unknown sensor "pump.flo"' });
});

test('no prototype or global access: constructor, __proto__, globalThis are just sensor ids', () => {
  const known = ['a'];
  assert.match(errorAt('constructor > 1', known).message, /unknown sensor "constructor"/);
  assert.match(errorAt('__proto__ == 1', known).message, /unknown sensor "__proto__"/);
  assert.match(errorAt('a.constructor > 1', known).message, /unknown sensor "a.constructor"/);
  assert.match(errorAt('toString(a) > 1', known).message, /unknown function "toString"/);
  assert.match(errorAt('constructor(a) > 1', known).message, /unknown function "constructor"/);
  assert.match(errorAt('a["x"] > 1', known).message, /unexpected character "\["/);
  // Without a known-sensor list they compile to slots that hold no value (NaN).
  const env = new SensorEnv();
  const c = compileCondition('__proto__ > 1 or constructor == 1 or globalThis > 0', env);
  assert.equal(c.eval(env), false);
  assert.deepEqual(c.sensors, ['__proto__', 'constructor', 'globalThis']);
});
