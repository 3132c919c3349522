/** The restricted unpickler on pickles Python wrote, and on damaged ones. */
import { describe, expect, it } from 'vitest';
import { Random } from '../../nn/random.js';
import { WeightsError } from '../errors.js';
import { findTorchGlobal, StorageType } from './globals.js';
import { isTuple, MAX_MARKS, type PyValue, unpickle } from './pickle.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const load = (bytes: Uint8Array): PyValue =>
  unpickle(bytes, { source: 'test.pkl', findGlobal: findTorchGlobal }).value;

/**
 * pickle.dumps(obj, protocol) from CPython 3.11 for protocols 2-5, where
 *   shared = [7]
 *   obj = {'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**40, -2**70, 2**64],
 *          'floats': [1.5, -0.0, float('inf')], 'none': None, 'bools': (True, False),
 *          'text': 'héllo ☃', 'bytes': b'\x00\xff', 'tuples': [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
 *          'shared': [shared, shared], 'set': {3}, 'frozen': frozenset({4}), 'barray': bytearray(b'z'),
 *          'dict': {1: 'one', (2, 3): 'pair'}}
 * Protocol 2 spells bytes and sets as calls (_codecs.encode, __builtin__.set); 4 adds FRAME,
 * MEMOIZE, STACK_GLOBAL, EMPTY_SET/ADDITEMS/FROZENSET; 5 BYTEARRAY8.
 */
const PYTHON: Record<number, string> = {
  2: '80027d7100285804000000696e747371015d7102284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a060000000000018a090000000000000000c08a09000000000000000001655806000000666c6f61747371035d710428473ff8000000000000478000000000000000477ff00000000000006558040000006e6f6e6571054e5805000000626f6f6c73710688898671075804000000746578747108580a00000068c3a96c6c6f20e29883710958050000006279746573710a635f636f646563730a656e636f64650a710b580300000000c3bf710c58060000006c6174696e31710d86710e52710f58060000007475706c657371105d711128294b018571124b014b028671134b014b024b03877114284b014b024b034b0474711565580600000073686172656471165d7117285d71184b076168186558030000007365747119635f5f6275696c74696e5f5f0a7365740a711a5d711b4b036185711c52711d580600000066726f7a656e711e635f5f6275696c74696e5f5f0a66726f7a656e7365740a711f5d71204b046185712152712258060000006261727261797123635f5f6275696c74696e5f5f0a6279746561727261790a7124680b58010000007a7125680d867126527127857128527129580400000064696374712a7d712b284b0158030000006f6e65712c4b024b0386712d580400000070616972712e75752e',
  3: '80037d7100285804000000696e747371015d7102284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a060000000000018a090000000000000000c08a09000000000000000001655806000000666c6f61747371035d710428473ff8000000000000478000000000000000477ff00000000000006558040000006e6f6e6571054e5805000000626f6f6c73710688898671075804000000746578747108580a00000068c3a96c6c6f20e29883710958050000006279746573710a430200ff710b58060000007475706c6573710c5d710d28294b0185710e4b014b0286710f4b014b024b03877110284b014b024b034b0474711165580600000073686172656471125d7113285d71144b076168146558030000007365747115636275696c74696e730a7365740a71165d71174b0361857118527119580600000066726f7a656e711a636275696c74696e730a66726f7a656e7365740a711b5d711c4b046185711d52711e5806000000626172726179711f636275696c74696e730a6279746561727261790a712043017a712185712252712358040000006469637471247d7125284b0158030000006f6e6571264b024b03867127580400000070616972712875752e',
  4: '8004954e010000000000007d94288c04696e7473945d94284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a060000000000018a090000000000000000c08a09000000000000000001658c06666c6f617473945d9428473ff8000000000000478000000000000000477ff0000000000000658c046e6f6e65944e8c05626f6f6c7394888986948c0474657874948c0a68c3a96c6c6f20e29883948c05627974657394430200ff948c067475706c6573945d9428294b0185944b014b0286944b014b024b038794284b014b024b034b047494658c06736861726564945d94285d944b07616814658c03736574948f94284b03908c0666726f7a656e94284b0491948c06626172726179948c086275696c74696e73948c0962797465617272617994939443017a94859452948c0464696374947d94284b018c036f6e65944b024b0386948c04706169729475752e',
  5: '80059538010000000000007d94288c04696e7473945d94284b004b014affffffff4bff4d00014dffff4a000001004a000000804affffff7f8a060000000000018a090000000000000000c08a09000000000000000001658c06666c6f617473945d9428473ff8000000000000478000000000000000477ff0000000000000658c046e6f6e65944e8c05626f6f6c7394888986948c0474657874948c0a68c3a96c6c6f20e29883948c05627974657394430200ff948c067475706c6573945d9428294b0185944b014b0286944b014b024b038794284b014b024b034b047494658c06736861726564945d94285d944b07616814658c03736574948f94284b03908c0666726f7a656e94284b0491948c06626172726179949601000000000000007a948c0464696374947d94284b018c036f6e65944b024b0386948c04706169729475752e',
};

const shared = [7];
const EXPECTED = new Map<PyValue, PyValue>([
  ['ints', [0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31 - 1, 2 ** 40, -(2n ** 70n), 2n ** 64n]],
  ['floats', [1.5, -0, Number.POSITIVE_INFINITY]],
  ['none', null],
  ['bools', [true, false]],
  ['text', 'héllo ☃'],
  ['bytes', new Uint8Array([0, 255])],
  ['tuples', [[], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4]]],
  ['shared', [shared, shared]],
  ['set', new Set([3])],
  ['frozen', new Set([4])],
  ['barray', new Uint8Array([0x7a])],
  [
    'dict',
    new Map<PyValue, PyValue>([
      [1, 'one'],
      [[2, 3], 'pair'],
    ]),
  ],
]);

describe('unpickle on what Python writes', () => {
  for (const [protocol, text] of Object.entries(PYTHON)) {
    it(`protocol ${protocol}: every value, tuples frozen, shared objects shared`, () => {
      const bytes = hex(text);
      const { value, end } = unpickle(bytes, { findGlobal: findTorchGlobal });
      expect(end).toBe(bytes.length);
      expect(value).toEqual(EXPECTED);
      const d = value as Map<string, PyValue>;
      const tuples = d.get('tuples') as PyValue[];
      expect(isTuple(d)).toBe(false);
      expect(isTuple(tuples)).toBe(false);
      expect(tuples.every((t) => isTuple(t))).toBe(true);
      const [a, b] = d.get('shared') as PyValue[][];
      expect(a).toBe(b);
      expect(Object.is((d.get('floats') as number[])[1], -0)).toBe(true);
    });
  }
});

describe('unpickle on damaged or hostile pickles', () => {
  const bad = (bytes: Uint8Array | number[], message: string | RegExp): void => {
    const run = (): unknown => load(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    expect(run).toThrow(WeightsError);
    expect(run).toThrow(message);
  };

  it('refuses structural errors with the byte they happen at', () => {
    bad(
      [0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x61],
      'test.pkl: pickle, byte 2: BINUNICODE needs 2147483647',
    );
    bad([0x80, 0x06, 0x4e, 0x2e], 'pickle protocol 6 is newer than 5');
    bad([0x80, 0x02, 0x4e], 'ends without STOP');
    bad([0x2e], 'STOP on an empty stack');
    bad([0x68, 0x05, 0x2e], 'BINGET reads memo entry 5, which was never stored');
    bad([0x29, 0x4b, 0x01, 0x61, 0x2e], 'APPEND on a tuple of 0, not a list');
    bad([0x5d, 0x4b, 0x01, 0x4b, 0x02, 0x73, 0x2e], 'SETITEM on a list of 0, not a dict');
    bad([0x74, 0x2e], 'TUPLE without a MARK');
    bad([0x7d, 0x28, 0x4b, 0x01, 0x75, 0x2e], 'SETITEMS with an odd number of items');
    bad([0x8b, 0xff, 0xff, 0x00, 0x00, 0x2e], 'LONG4 of 65535 bytes');
    bad([0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80], 'BINUNICODE8 claims 9223372036854775808 bytes');
    bad([0x8c, 0x02, 0xc3, 0x28, 0x2e], 'not valid UTF-8');
    bad([0x50, 0x30, 0x0a, 0x2e], 'unsupported opcode 0x50');
    bad([0x82, 0x01, 0x2e], 'EXT1: the extension registry');
    bad([0xff], 'unsupported opcode 0xff');
    bad([0x4e, 0x51, 0x2e], 'the pickle refers to data outside it (BINPERSID)');
    bad(new Uint8Array(MAX_MARKS + 1).fill(0x28), `MARKs nest deeper than ${MAX_MARKS}`);
  });

  it('calls only allowed callables, and gives state only to what takes it', () => {
    const storage = new TextEncoder().encode('ctorch\nFloatStorage\n');
    bad([...storage, 0x29, 0x52, 0x2e], 'REDUCE calls torch.FloatStorage, which cannot be called');
    bad([...storage, 0x7d, 0x62, 0x2e], 'BUILD gives state to torch.FloatStorage, which takes none');
    bad([0x4b, 0x01, 0x29, 0x52, 0x2e], 'REDUCE calls the number 1');
    // BUILD on a dict (OrderedDict's _metadata) is ignored.
    expect(load(new Uint8Array([0x7d, 0x7d, 0x62, 0x2e]))).toEqual(new Map());
    expect(findTorchGlobal('torch', 'HalfStorage')).toBeInstanceOf(StorageType);
  });

  it('gives a WeightsError for every truncation and every mutation, never anything else', () => {
    const r = new Random(7);
    const seeds = Object.values(PYTHON).map(hex);
    let failures = 0;
    for (const seed of seeds) {
      for (let n = 0; n < seed.length; n++) {
        expect(() => load(seed.subarray(0, n))).toThrow(WeightsError);
      }
      for (let i = 0; i < 1500; i++) {
        const b = seed.slice();
        for (let k = r.int(4) + 1; k > 0; k--) b[r.int(b.length)] = r.int(256);
        try {
          load(b);
        } catch (e) {
          if (!(e instanceof WeightsError)) throw e;
          failures++;
        }
      }
    }
    expect(failures).toBeGreaterThan(1000);
  });
});
