"""Runs a `cleave export --test-data` case in onnxruntime and compares it with Cleave's outputs.

usage: onnx_check.py MODEL.onnx TEST_DIR [TOLERANCE]
Exit 0 when both outputs (logits, probabilities) agree within TOLERANCE (max absolute
difference, default 1e-3) and the metadata names the classes and the flat-field σ; prints the
differences.
"""
import json
import sys

import numpy as np
import onnxruntime as ort


def read_tensor(path):
    """A float32 TensorProto with raw_data, decoded by hand (no `onnx` package needed)."""
    data = open(path, "rb").read()
    dims, raw, i = [], None, 0
    while i < len(data):
        key, i = varint(data, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
            if field == 1:
                dims.append(value)
        elif wire == 2:
            length, i = varint(data, i)
            if field == 9:
                raw = data[i:i + length]
            i += length
        else:
            raise ValueError(f"{path}: unexpected wire type {wire}")
    return np.frombuffer(raw, dtype="<f4").reshape(dims)


def varint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


model, folder = sys.argv[1], sys.argv[2]
tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-3
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
meta = session.get_modelmeta().custom_metadata_map
classes = json.loads(meta["cleave.classes"])
# The flat-field σ (or "none") is recorded, and the input description says how to apply it.
flattening = meta["cleave.flattening"]
assert flattening == "none" or float(flattening) > 0, flattening
assert (flattening == "none") == ("illumination" not in meta["cleave.input"]), meta["cleave.input"]
x = read_tensor(f"{folder}/input_0.pb")
logits, probabilities = session.run(["logits", "probabilities"], {"input": x})
want_logits = read_tensor(f"{folder}/output_0.pb")
want_probabilities = read_tensor(f"{folder}/output_1.pb")
assert logits.shape == want_logits.shape, (logits.shape, want_logits.shape)
assert logits.shape[1] == len(classes), (logits.shape, classes)
d_logits = float(np.abs(logits - want_logits).max())
d_probabilities = float(np.abs(probabilities - want_probabilities).max())
scale = float(np.abs(want_logits).max())
print(f"input {x.shape}, logits max |diff| {d_logits:.2e} (max |logit| {scale:.2f}), "
      f"probabilities max |diff| {d_probabilities:.2e}, classes {[c['name'] for c in classes]}, flattening {flattening}")
sys.exit(0 if d_logits <= tolerance * max(1.0, scale) and d_probabilities <= tolerance else 1)
