"""Turn a local sentence-transformers model into files the search process runs, once,
in a child process.

The export and the distillation need torch and transformers (≈12 s to import here);
running them in a child process keeps them out of the process that searches, whose
memory and start-up stay those of onnxruntime. The caller (``ragtui.encoders.building``)
hands a scratch folder that is swapped in whole only after success, so an interrupted
run leaves nothing that is ever taken for a whole model.

    python -m ragtui.encoders.export onnx SOURCE_DIR DEST_DIR     # model.onnx (+ .data), fp32
    python -m ragtui.encoders.export int8 ONNX_DIR DEST_DIR       # the same, int8 weights
    python -m ragtui.encoders.export static SOURCE_DIR DEST_DIR   # a model2vec static model
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

OPSET = 17


def _pooling(source: Path) -> dict[str, object]:
    """The model's own pooling and normalisation, from its sentence-transformers files."""
    modules = (
        json.loads((source / "modules.json").read_text())
        if (source / "modules.json").is_file()
        else []
    )
    kinds = [str(module.get("type", "")) for module in modules]
    pooling_dir = next(
        (
            source / module["path"]
            for module in modules
            if module.get("type", "").endswith("Pooling")
        ),
        None,
    )
    config = json.loads((pooling_dir / "config.json").read_text()) if pooling_dir else {}
    if config.get("pooling_mode_cls_token"):
        mode = "cls"
    elif config.get("pooling_mode_max_tokens"):
        mode = "max"
    else:
        mode = "mean"
    max_length = 256
    sbert = source / "sentence_bert_config.json"
    if sbert.is_file():
        max_length = int(json.loads(sbert.read_text()).get("max_seq_length") or max_length)
    return {
        "mode": mode,
        "normalize": any(kind.endswith("Normalize") for kind in kinds),
        "max_length": max_length,
    }


def export(source: Path, destination: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # no load reports on anyone's screen
    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    # Eager attention exports to plain ONNX ops that behave the same for any padding.
    model = AutoModel.from_pretrained(
        str(source), local_files_only=True, attn_implementation="eager"
    )
    model.eval()
    sample = tokenizer(["an example sentence", "another"], padding=True, return_tensors="pt")
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in names}
    axes["token_embeddings"] = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            TokenEmbeddings(),
            tuple(sample[name] for name in names),
            str(destination / "model.onnx"),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    _weights_beside(destination / "model.onnx")
    tokenizer_file = source / "tokenizer.json"
    if tokenizer_file.is_file():
        shutil.copyfile(tokenizer_file, destination / "tokenizer.json")
    else:  # a slow tokenizer only: save the fast one transformers converts it into
        tokenizer.backend_tokenizer.save(str(destination / "tokenizer.json"))
    (destination / "pooling.json").write_text(json.dumps(_pooling(source)))


# The weights live in a file of their own beside the graph: ONNX Runtime maps such a file
# instead of copying every tensor out of one protobuf, and opens all-MiniLM-L6-v2 in
# about 0.1 s instead of 0.25 s (measured here; same vectors), which the compare screen
# waits for before its dense pane is ready.
WEIGHTS_FILE = "model.onnx.data"


def _weights_beside(path: Path) -> None:
    import onnx

    model = onnx.load(str(path))
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=WEIGHTS_FILE,
        size_threshold=1024,
    )


def quantize(onnx_dir: Path, destination: Path, per_channel: bool = True) -> None:
    """Dynamic int8 quantization of the weights (activations stay float, scaled at run time)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process is noise here
    quantize_dynamic(
        str(onnx_dir / "model.onnx"),
        str(destination / "model.onnx"),
        weight_type=QuantType.QInt8,
        per_channel=per_channel,
        use_external_data_format=True,  # writes WEIGHTS_FILE beside the graph
    )
    for name in ("tokenizer.json", "pooling.json"):
        shutil.copyfile(onnx_dir / name, destination / name)


def distill_static(source: Path, destination: Path) -> None:
    """A model2vec static model distilled from the source model's own vocabulary."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from model2vec.distill import distill
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    static = distill(model_name=str(source), pca_dims=256)
    static.save_pretrained(str(destination))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ragtui.encoders.export")
    parser.add_argument("kind", choices=["onnx", "int8", "int8-per-tensor", "static"])
    parser.add_argument("source", type=Path)
    parser.add_argument("destination", type=Path)
    args = parser.parse_args(argv)
    args.destination.mkdir(parents=True, exist_ok=True)
    try:
        if args.kind == "onnx":
            export(args.source, args.destination)
        elif args.kind == "static":
            distill_static(args.source, args.destination)
        else:
            quantize(args.source, args.destination, per_channel=args.kind == "int8")
    except Exception as error:  # reported to the parent as one line
        print(f"{error.__class__.__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
