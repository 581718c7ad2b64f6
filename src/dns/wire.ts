// The parts of dns-packet we use below the message level — names, questions and TXT, MX, A, AAAA and CAA data — with types: the
// published type definitions only describe whole-message encode/decode, while the library exports these codecs too.

import packet from 'dns-packet';

interface Codec<T> {
  encode(value: T, buffer?: Buffer, offset?: number): Buffer;
  decode(buffer: Buffer, offset?: number): T;
  encodingLength(value: T): number;
}

interface Measured {
  /** Bytes consumed by the last encode/decode call. */
  bytes: number;
}

export interface WireCodecs {
  name: { encode: Codec<string>['encode'] & Measured; decode: Codec<string>['decode'] & Measured; encodingLength(value: string): number };
  question: { decode: ((buffer: Buffer, offset?: number) => { name: string; type: string; class: string }) & Measured };
  txt: { encode: ((value: Buffer[], buffer?: Buffer, offset?: number) => Buffer) & Measured };
  mx: { encode: ((value: { preference: number; exchange: string }, buffer?: Buffer, offset?: number) => Buffer) & Measured };
  a: { encode: ((value: string, buffer?: Buffer, offset?: number) => Buffer) & Measured };
  aaaa: { encode: ((value: string, buffer?: Buffer, offset?: number) => Buffer) & Measured };
  caa: { encode: ((value: { flags: number; tag: string; value: string }, buffer?: Buffer, offset?: number) => Buffer) & Measured };
}

export const wire = packet as unknown as WireCodecs & typeof packet;

export const rrClass = { IN: 1, NONE: 254, ANY: 255 } as const;
export const rrType = { TXT: 16, SOA: 6, MX: 15, A: 1, AAAA: 28, CAA: 257 } as const;
