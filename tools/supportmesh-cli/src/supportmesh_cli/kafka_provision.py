"""`supportmesh kafka-provision`: on a Kafka with an authorizer, let the mesh's SASL user use the mesh's topics."""

import argparse
import asyncio
import os
import pathlib
from typing import TextIO

from aiokafka.errors import KafkaError
from supportmesh_core.kafka_security import KafkaSecurityError, grant_mesh_user

from .kafka_io import KafkaUnavailable, security


def add_parser(commands, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "kafka-provision", parents=[common],
        help="grant a SASL user the mesh's topics and groups on a secured Kafka (as its admin)",
        description="Connects with the environment's TLS settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SSL_CA_FILE) as the "
                    "broker's admin and adds ACLs: every topic under tickets., stage., telemetry. and chaos., and "
                    "any consumer group. Granting twice is harmless.")
    parser.add_argument("--user", default=os.environ.get("KAFKA_SASL_USERNAME", ""),
                        help="the user the services log in as (default: $KAFKA_SASL_USERNAME)")
    parser.add_argument("--admin-user", default=os.environ.get("KAFKA_ADMIN_USERNAME", "supportmesh-admin"),
                        help="the broker's super user (default: $KAFKA_ADMIN_USERNAME or %(default)s)")
    parser.add_argument("--admin-password-file", type=pathlib.Path, metavar="FILE",
                        help="a file with its password, e.g. $SUPPORTMESH_HOME/secrets/kafka-admin "
                             "(default: $KAFKA_ADMIN_PASSWORD)")


async def run(args: argparse.Namespace, out: TextIO) -> None:
    if not args.user:
        raise KafkaUnavailable("no user to grant: --user or KAFKA_SASL_USERNAME")
    if args.admin_password_file is not None:
        try:
            password = args.admin_password_file.read_text().strip()
        except OSError as exc:
            raise KafkaUnavailable(f"cannot read {args.admin_password_file}: {exc.strerror or exc}") from None
    else:
        password = os.environ.get("KAFKA_ADMIN_PASSWORD", "")
    if not password:
        raise KafkaUnavailable("no admin password: --admin-password-file or KAFKA_ADMIN_PASSWORD")
    admin = security(KAFKA_SASL_USERNAME=args.admin_user, KAFKA_SASL_PASSWORD=password)
    if not admin.uses_sasl:
        raise KafkaUnavailable(f"KAFKA_SECURITY_PROTOCOL={admin.kafka_security_protocol}: ACLs are for a broker with "
                               "SASL users (SASL_SSL)")
    try:
        grants = await asyncio.wait_for(grant_mesh_user(args.bootstrap, args.user, admin), 30)
    except KafkaSecurityError as exc:
        raise KafkaUnavailable(str(exc)) from None
    except (KafkaError, OSError, TimeoutError) as exc:
        raise KafkaUnavailable(f"cannot reach Kafka at {args.bootstrap} ({exc or type(exc).__name__})") from None
    for grant in grants:
        print(grant, file=out)
