"""Request bodies of the push routes: size-capped, gunzipped, never empty.

Log ingestion and the sharing tasks' record hand-over read their NDJSON the same way: 413
past the cap (also after inflating), 415 for an encoding other than gzip, 400 when empty or
cut short.
"""

from __future__ import annotations

import zlib

from fastapi import Request

from console.api.gateway import GatewayRefusal


def _too_big(limit: int, *, inflated: bool = False) -> GatewayRefusal:
    what = "解压后的请求体" if inflated else "请求体"
    return GatewayRefusal(413, f"{what}超过上限 {limit // 1024 // 1024} MB，请分批推送")


def gunzip_all(body: bytes, limit: int) -> bytes:
    """Every member of a gzip body (RFC 1952), as ``cat a.gz b.gz`` and shippers send them.

    Bounded: a small gzip bomb cannot grow past ``limit`` in memory (413); a cut or corrupt
    member is a 400, never a silently shortened batch.
    """
    plain = bytearray()
    rest = body
    while rest:
        inflater = zlib.decompressobj(wbits=31)
        try:
            plain += inflater.decompress(rest, limit + 1 - len(plain))
        except zlib.error:
            raise GatewayRefusal(400, "请求体不是有效的 gzip 数据") from None
        if len(plain) > limit or inflater.unconsumed_tail:
            raise _too_big(limit, inflated=True)
        if not inflater.eof:
            raise GatewayRefusal(400, "gzip 数据不完整（被截断），请重新推送整批")
        rest = inflater.unused_data
        if not rest.strip(b"\x00"):
            break  # trailing zero padding after the last member (tar and tape tools add it)
    return bytes(plain)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, gunzipped if sent so.

    413 past ``limit`` bytes, 415 for an encoding other than gzip, 400 when empty.
    """
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise GatewayRefusal(415, f"不支持的内容编码 {encoding[:20]}，请使用 gzip 或不压缩")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_big(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_big(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    if encoding in ("gzip", "x-gzip"):
        body = gunzip_all(body, limit)
    if not body.strip():
        raise GatewayRefusal(400, "请求体为空：每行一个 JSON 对象（NDJSON）")
    return body
