"""What the PAdES seal costs a PDF: ``seal_pdf`` on rendered statements, in a loop.

    .venv/bin/python benchmarks/seal_cost.py [--n 20] [--rounds 10] [--profile]

Renders ``--n`` statements unsealed (half STEP, half B2 First), makes a seal key and
certificate, then seals every PDF ``--rounds`` times, interleaving the project's
``seal_pdf`` with pyHanko's plain ``sign_pdf`` (the same field, metadata and reserved
room, none of the project's shortcuts) as the baseline of the same run. Prints CPU ms
per PDF of each and their ratio; ``--profile`` prints where ``seal_pdf``'s time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from factories import NOW, make_keys, synthetic_series
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata

from results_online.build.render import statements as render_module
from results_online.build.render.fonts import reduce_fonts, statement_texts
from results_online.build.render.sealpdf import FIELD, SEAL_REASON, seal_pdf
from results_online.build.verification.seal import seal_series
from results_online.keys.seal import Seal, init_seal_cert, load_seal


def plain_sign(data: bytes, seal: Seal, reason: str) -> bytes:
    """pyHanko's documented one-call signing: the baseline."""
    from asn1crypto import keys, x509
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    cert = x509.Certificate.load(seal.cert_der)
    signer = signers.SimpleSigner(signing_cert=cert,
                                  signing_key=keys.PrivateKeyInfo.load(seal.key_der),
                                  cert_registry=SimpleCertificateStore.from_certs([cert]))
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    fields.append_signature_field(writer, fields.SigFieldSpec(FIELD))
    meta = PdfSignatureMetadata(field_name=FIELD, md_algorithm="sha256", reason=reason,
                                subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.sign_pdf(writer, meta, signer=signer,
                           bytes_reserved=2 * (len(seal.cert_der) + 1024))
    return bytes(out.getvalue())


def cpu_ms(fn: Callable[[bytes, Seal, str], bytes], pdfs: list[bytes], seal: Seal) -> float:
    """CPU milliseconds per PDF of one pass of ``fn`` over ``pdfs``."""
    start = time.process_time()
    for data in pdfs:
        fn(data, seal, SEAL_REASON)
    return (time.process_time() - start) / len(pdfs) * 1000


def main() -> None:
    """Render, seal in a loop, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="statements (default 20)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="results-seal-cost-") as tmp:
        root = Path(tmp)
        statements = list(seal_series(synthetic_series(args.n, per_centre=args.n),
                                      make_keys(root / "keys")))[: args.n]
        init_seal_cert(root / "seal", "Benchmark Board", NOW)
        seal = load_seal(root / "seal")
        assert seal is not None
        (root / "fonts").mkdir()
        fonts = reduce_fonts((t for s in statements for t in statement_texts(s)), root / "fonts")
        paths = render_module.renderer(fonts).render_batch(statements, root / "out", NOW)
        pdfs = [Path(p[0]).read_bytes() for p in paths]
    seal_pdf(pdfs[0], seal, SEAL_REASON)  # the signer parsed, modules imported
    ours, plain = [], []
    for _ in range(args.rounds):
        ours.append(cpu_ms(seal_pdf, pdfs, seal))
        plain.append(cpu_ms(plain_sign, pdfs, seal))
    best, base = min(ours), min(plain)
    print(f"{len(pdfs)} PDFs x {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}; "
          f"CPU ms per PDF (best round, median in brackets):")
    print(f"  seal_pdf              {best:6.2f}  ({sorted(ours)[len(ours) // 2]:.2f})")
    print(f"  pyHanko sign_pdf      {base:6.2f}  ({sorted(plain)[len(plain) // 2]:.2f})")
    print(f"  ratio                 {best / base:6.2f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for data in pdfs * 3:
            seal_pdf(data, seal, SEAL_REASON)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
