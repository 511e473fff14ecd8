"""Make a new Ed25519 key pair for signing the transparency log's checkpoints."""

from django.core.management.base import BaseCommand, CommandError

from publicity.translog import NoteError, Signer


class Command(BaseCommand):
    help = (
        "Print a new checkpoint signing key: the private key for SUNLIGHT_LOG_SIGNING_KEY (keep it "
        "secret) and the public key auditors verify with. NAME is the key's name, usually the "
        "log's origin, e.g. sunlight.example.gov.cn/log."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--env", action="store_true", help="print only SUNLIGHT_LOG_SIGNING_KEY=<private key>"
        )

    def handle(self, *args, name, env, **options):
        try:
            signer = Signer.generate(name)
        except NoteError as error:
            raise CommandError(str(error)) from error
        if env:
            self.stdout.write(f"SUNLIGHT_LOG_SIGNING_KEY={signer.key()}")
            return
        self.stdout.write(f"SUNLIGHT_LOG_SIGNING_KEY={signer.key()}")
        self.stdout.write(f"public key: {signer.verifier().key()}")
