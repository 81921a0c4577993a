#!/usr/bin/env python3
"""Writes the tiny model the llama.cpp tests serve: llama architecture, 2 layers, 64 dimensions,
random weights (seeded, so every run writes the same file), and a SentencePiece-style vocabulary
with byte fallback (<unk> <s> </s>, the 256 byte tokens, then word pieces), so any text, Korean
included, tokenizes. Nothing is downloaded. Usage: llama_model.py OUT.gguf"""
import sys

import gguf
import numpy as np

N_EMBD, N_FF, N_LAYER, N_HEAD, N_CTX = 64, 128, 2, 4, 256
PIECES = ["▁", "▁the", "▁a", "▁is", "▁of", "▁to", "▁and", "▁answer", "▁정답", "▁은", "▁는",
          "▁다음", "▁질문"] + ["▁" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"] + \
         list("abcdefghijklmnopqrstuvwxyz0123456789.,?!()")
# the chat template the server applies (a plain one: the tests check shapes, not wording)
CHAT_TEMPLATE = ("{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n"
                 "{% endfor %}assistant:")


def vocab():
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        scores.append(0.0)
        types.append(6)  # byte
    for i, p in enumerate(dict.fromkeys(PIECES)):  # each piece once
        tokens.append(p)
        scores.append(-float(i + 1))
        types.append(1)  # normal
    return tokens, scores, types


def main(out):
    rng = np.random.default_rng(20)
    tokens, scores, types = vocab()
    w = gguf.GGUFWriter(out, "llama")
    w.add_name("hret-tiny-random")
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(0)  # all F32
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    def t(name, *shape, ones=False):
        a = np.ones(shape, np.float32) if ones else rng.normal(0, 0.02, shape).astype(np.float32)
        w.add_tensor(name, a)

    n_vocab = len(tokens)
    t("token_embd.weight", n_vocab, N_EMBD)
    for i in range(N_LAYER):
        t(f"blk.{i}.attn_norm.weight", N_EMBD, ones=True)
        for m in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{m}.weight", N_EMBD, N_EMBD)
        t(f"blk.{i}.ffn_norm.weight", N_EMBD, ones=True)
        t(f"blk.{i}.ffn_gate.weight", N_FF, N_EMBD)
        t(f"blk.{i}.ffn_up.weight", N_FF, N_EMBD)
        t(f"blk.{i}.ffn_down.weight", N_EMBD, N_FF)
    t("output_norm.weight", N_EMBD, ones=True)
    t("output.weight", n_vocab, N_EMBD)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
