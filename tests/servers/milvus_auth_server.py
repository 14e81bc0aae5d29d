"""A Milvus Lite gRPC server that demands a token, as a Milvus server with auth enabled does.

Milvus Lite has no authentication, and Milvus Standalone cannot be installed here, so the
wrong-token case needs this: the real Milvus Lite service (``milvus_lite``'s servicer over
its own data directory), behind a gRPC interceptor that refuses any call whose
``authorization`` metadata is not the expected token, with the status code and message
Milvus's own authentication interceptor uses (``Unauthenticated``, "auth check failure").
"""

from __future__ import annotations

import argparse
import base64
from concurrent import futures

import grpc
from milvus_lite.adapter.grpc.servicer import MilvusServicer
from milvus_lite.db import MilvusLite
from pymilvus.grpc_gen import milvus_pb2_grpc


class TokenCheck(grpc.ServerInterceptor):
    def __init__(self, token: str) -> None:
        self._expected = base64.b64encode(token.encode()).decode()

        def refuse(request, context):
            context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "auth check failure, please check username, password or token",
            )

        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(self, continuation, handler_call_details):
        metadata = dict(handler_call_details.invocation_metadata or ())
        if metadata.get("authorization") != self._expected:
            return self._refusal
        return continuation(handler_call_details)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    db = MilvusLite(args.data_dir)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4), interceptors=[TokenCheck(args.token)]
    )
    milvus_pb2_grpc.add_MilvusServiceServicer_to_server(MilvusServicer(db), server)
    server.add_insecure_port(f"127.0.0.1:{args.port}")
    server.start()
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
