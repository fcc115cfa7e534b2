"""`surgery merge-lora|convert|quantize`: LoRA merge through LLaMA-Factory's export, dtype cast, GPTQ and GGUF."""

from __future__ import annotations

from ..i18n import t
from .output import emit
from .target_opt import add_target
from .types import positive_int, text


def register(ssub) -> None:
    """Add the merge and compression subcommands."""
    cmd = ssub.add_parser("merge-lora", help="merge a base + LoRA adapter version into a full model (LLaMA-Factory "
                                             "export) and register it")
    cmd.add_argument("version", type=text, help="adapter version id, or name@version#checkpoint-N")
    cmd.add_argument("--out", type=text, default=None, help="output folder inside the workspace")
    _common(cmd)
    cmd.add_argument("--dtype", choices=("bf16", "fp16", "fp32"), default=None, help="infer_dtype of the export")
    cmd.add_argument("--shard-gb", type=positive_int, default=2, help="export_size: shard size in GB")
    cmd.add_argument("--device", choices=("cpu", "auto"), default="cpu", help="export_device")
    add_target(cmd)
    cmd.set_defaults(handler=_merge)
    cmd = ssub.add_parser("convert", help="cast a base or merged version to bf16/fp16 and register it")
    cmd.add_argument("model", type=text, help="base or merged version id")
    cmd.add_argument("--dtype", choices=("bf16", "fp16", "fp32"), required=True)
    cmd.add_argument("--out", type=text, default=None, help="output folder inside the workspace")
    cmd.add_argument("--ppl-set", type=text, default=None, help="evaluation set: perplexity before and after")
    add_target(cmd)
    _common(cmd)
    cmd.set_defaults(handler=_convert)
    cmd = ssub.add_parser("quantize", help="GPTQ (LLaMA-Factory export, needs CUDA) or GGUF (llama.cpp)")
    cmd.add_argument("model", type=text, help="base or merged version id")
    how = cmd.add_mutually_exclusive_group(required=True)
    how.add_argument("--gptq", type=int, choices=(2, 3, 4, 8), help="export_quantization_bit")
    how.add_argument("--gguf", choices=("f32", "f16", "bf16", "q8_0"), help="llama.cpp outtype")
    cmd.add_argument("--dataset", type=text, default=None, help="GPTQ calibration text: dataset name or file")
    cmd.add_argument("--out", type=text, default=None, help="output folder inside the workspace")
    _common(cmd)
    cmd.set_defaults(handler=_quantize)


def _common(cmd) -> None:
    cmd.add_argument("--name", type=text, default=None, help="registry name of the new model")
    cmd.add_argument("--wait", action="store_true", help="wait for the job and print the new version id")
    cmd.add_argument("--json", action="store_true")


def _finish(settings, services, job, args, data: dict, lines: list[str]) -> int:
    """Print the queued job, or wait for it and print what it registered: the new version id last."""
    from .jobs import checked, wait_applied

    if not args.wait:
        emit({**data, "job_id": job.id}, args.json, "\n".join([*lines, job.id]))
        return 0
    job = wait_applied(settings, services, job)
    result = checked(settings, job).apply_result
    lang = settings.lang
    lines = [*lines, t("sgx.done", lang, model_id=result.get("model_id", "-"), path=result.get("path"),
                       before=_size(result.get("source_bytes")), after=_size(result.get("bytes")))]
    if result.get("ppl_set"):
        lines.append(t("sgx.ppl", lang, set=result["ppl_set"], before=f"{result['ppl_before']:.4f}",
                       after=f"{result['ppl_after']:.4f}"))
    emit({**data, **result, "job_id": job.id}, args.json, "\n".join([*lines, str(result.get("model_id", ""))]))
    return 0


def _merge(settings, args) -> int:
    from ..services.container import build_services
    from ..services.surgery.export import merge_lora

    services = build_services(settings)
    services.sync_models()
    saved, job = merge_lora(settings, services.runner, args.version, args.target, name=args.name, out=args.out,
                            dtype=args.dtype, shard_gb=args.shard_gb, device=args.device)
    data = {"config": saved.rel_path, "command": saved.command, "path": str(saved.plan.output.final)}
    lines = [t("sgx.saved", settings.lang, path=saved.rel_path, command=saved.command),
             t("sgx.queued", settings.lang, job=job.id, path=saved.plan.output.final)]
    return _finish(settings, services, job, args, data, lines)


def _convert(settings, args) -> int:
    from ..services.container import build_services
    from ..services.surgery.convert import convert

    services = build_services(settings)
    services.sync_models()
    params, job = convert(settings, services.runner, args.model, args.dtype, args.target, name=args.name,
                          out=args.out, ppl_set=args.ppl_set)
    lines = [t("sgx.queued", settings.lang, job=job.id, path=params.final)]
    return _finish(settings, services, job, args, {"path": params.final}, lines)


def _quantize(settings, args) -> int:
    from ..services.container import build_services
    from ..services.surgery import convert, export

    services = build_services(settings)
    services.sync_models()
    if args.gguf:
        job = convert.gguf(settings, services.runner, args.model, args.gguf, name=args.name, out=args.out)
        return _gguf_finish(settings, services, job, args)
    plan = export.plan_gptq(settings, args.model, args.gptq, dataset=args.dataset, name=args.name, out=args.out)
    saved, job = export.quantize_gptq(settings, services.runner, plan)  # refused on a machine without CUDA
    data = {"config": saved.rel_path, "command": saved.command, "path": str(plan.output.final)}
    lines = [t("sgx.saved", settings.lang, path=saved.rel_path, command=saved.command),
             t("sgx.queued", settings.lang, job=job.id, path=plan.output.final)]
    return _finish(settings, services, job, args, data, lines)


def _gguf_finish(settings, services, job, args) -> int:
    from .jobs import checked

    path = job.meta.get("path")
    if not args.wait:
        emit({"path": path, "job_id": job.id}, args.json, t("sgx.queued", settings.lang, job=job.id, path=path))
        return 0
    result = checked(settings, services.reconciler.wait_applied(job.id)).apply_result
    emit({**result, "job_id": job.id}, args.json, t("sgx.gguf_done", settings.lang, file=result.get("file")))
    return 0


def _size(count) -> str:
    return f"{count / 1024**2:.2f} MiB" if isinstance(count, (int, float)) else "-"
