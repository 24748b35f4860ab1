import { describe, expect, it } from 'vitest';
import { cleanOrtMessage } from './messages.js';

describe('cleanOrtMessage', () => {
  it('keeps onnxruntime-node 1.30 messages as they are, newlines as spaces', () => {
    expect(cleanOrtMessage('No graph was found in the protobuf.')).toBe('No graph was found in the protobuf.');
    expect(
      cleanOrtMessage(
        'Got invalid dimensions for input: 0 for the following indices\n index: 0 Got: 3 Expected: 2\n Please fix either the inputs or the model.',
      ),
    ).toBe('Got invalid dimensions for input: 0 for the following indices  index: 0 Got: 3 Expected: 2  Please fix either the inputs or the model.');
  });

  it('drops status-code prefixes other builds and bindings put in front', () => {
    expect(cleanOrtMessage('[ErrorCode:InvalidProtobuf] No graph was found in the protobuf.')).toBe('No graph was found in the protobuf.');
    expect(cleanOrtMessage('[ErrorCode:InvalidArgument] Invalid rank for input: a Got: 3 Expected: 2')).toBe(
      'Invalid rank for input: a Got: 3 Expected: 2',
    );
    expect(cleanOrtMessage('[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model failed:Protobuf parsing failed.')).toBe(
      'Load model failed:Protobuf parsing failed.',
    );
  });

  it('leaves brackets inside the text alone', () => {
    expect(cleanOrtMessage('Unexpected input data type. Actual: (tensor(double)) , expected: [x]')).toBe(
      'Unexpected input data type. Actual: (tensor(double)) , expected: [x]',
    );
  });
});
