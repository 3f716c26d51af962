"""Asynchronous many to many: a date as written in, its ISO form out, of another length.

chars (N, S) ─embed─▶ pack ─▶ impl bidirectional layer ─▶ m (N, S, 2H)  memory, padding 0
                                                        └▶ h_n ─▶ final_state (N, 2H) ─▶ tanh(Linear) ─▶ s_0
decoder (tasks/patterns/decoder.py): s_0, then one ISO character a step; with attention,
step t reads c_t = Σ_j α_{t,j} m_j, padding masked out; without (``--no-attention``), the
decoder has only s_0: the whole date squeezed into one vector.
"""

from torch import Tensor, nn
from torch.nn.utils.rnn import pad_packed_sequence

from tasks.patterns.decoder import Decoder
from tasks.patterns.seq2seq import dates
from tasks.patterns.seq2seq.config import DatesConfig
from tasks.patterns.sequences import final_state, length_mask, pack, recurrent_layer


class DateTranslator(nn.Module):
    """Bidirectional encoder, bridge to the decoder's first state, decoder with or without
    attention."""

    def __init__(self, cfg: DatesConfig):
        super().__init__()
        memory = 2 * cfg.hidden_size  # both directions' outputs, side by side
        self.embed = nn.Embedding(1 + len(dates.INPUT_CHARS), cfg.embed_size)
        self.encoder = recurrent_layer(cfg, bidirectional=True)
        self.bridge = nn.Linear(memory, cfg.hidden_size)
        self.decoder = Decoder(
            cfg.impl,
            cfg.cell,
            3 + len(dates.OUTPUT_CHARS),
            cfg.embed_size,
            cfg.hidden_size,
            memory_size=memory if cfg.attention else 0,
            attention_size=cfg.attention_size,
        )

    def encode(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(memory (N, S, 2H), its mask (N, S), the decoder's first state s_0 (N, H))."""
        out, h_n = self.encoder(pack(self.embed(ids), lengths))
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        s_0 = self.bridge(final_state(h_n, bidirectional=True)).tanh()
        # lengths stay on the CPU, where pack wants them; the mask goes where the memory is
        mask = length_mask(lengths, ids.shape[1]).to(memory.device)  # (N, S)
        return memory, mask, s_0

    def forward(
        self,
        ids: Tensor,
        lengths: Tensor,
        targets: Tensor | None = None,
        teacher: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Logits of the ISO characters and the end (N, 11, V), and the attention weights
        (N, 11, S) or None; ``targets``, ``teacher``: as Decoder.forward takes them."""
        memory, mask, s_0 = self.encode(ids, lengths)
        steps = dates.ISO_LENGTH + 1
        return self.decoder(s_0, dates.SOS, steps, targets, teacher, memory, mask)
