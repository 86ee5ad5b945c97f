"""`xadapt methods`: the training-method registry, one line each."""

from xadapt.cli.common import console, user_errors

METHODS_HELP = ("Training methods (`xadapt methods` lists them): finetune, head, adapter, madx, fusion, or an adapter "
                "method (lora, par_bn, prefix, ...), optionally at a parameter budget: lora@0.5%.")


@user_errors
def methods_command() -> None:
    """List the training methods --methods and --method accept, a line each: what it is, its usual learning rate, what it needs."""
    from xadapt.methods import TRAINING_METHODS

    width = max(map(len, TRAINING_METHODS))
    for name, method in TRAINING_METHODS.items():
        needs = [what for what, needed in (("language adapters", method.needs_language_adapters),
                                           ("trained adapters to fuse", method.fuses_adapters)) if needed]
        console.print(f"[bold]{name:<{width}}[/]  {method.summary} (lr {method.lr:g}{'; needs ' + ', '.join(needs) if needs else ''})",
                      highlight=False, soft_wrap=True)
    console.print("A single adapter method also takes a parameter budget: lora@0.5% sizes it to 0.5% of the encoder's "
                  "layer parameters.", highlight=False, soft_wrap=True)


def register(app) -> None:
    app.command("methods")(methods_command)
