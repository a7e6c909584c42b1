package org.etcdjvm.embedded.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.etcdjvm.embedded.internal.store.Event;

/**
 * A directory listing ({@code [entry,entry,...]}) rendered {@value #CHUNK_BYTES} bytes at a time,
 * as Netty's {@code ChunkedWriteHandler} asks for them, which it does only while the connection is
 * writable: a listing of hundreds of megabytes never exists whole in memory, and a client that does
 * not read it holds one chunk. Its exact length is counted first, with the same {@code now}, so the
 * response still carries a {@code Content-Length} (HTTP/1.0 clients and keep-alive work as for any
 * other response).
 *
 * <p>Confined to the event loop of its connection.
 */
final class ListingBody implements ChunkedInput<ByteBuf> {
  /** Listings up to this size are rendered whole; larger ones in chunks of about this size. */
  static final int CHUNK_BYTES = 64 * 1024;

  private final List<Event> entries;
  private final Instant now;
  private final ZoneId zone;
  private final long length;
  private int next;
  private long written;
  private boolean ended;

  private ListingBody(List<Event> entries, Instant now, ZoneId zone, long length) {
    this.entries = entries;
    this.now = now;
    this.zone = zone;
    this.length = length;
  }

  /**
   * The listing of {@code entries} whole (the bytes of {@link V1Json#events}), or null when it is
   * longer than {@value #CHUNK_BYTES} characters: then it is sent by {@link #of}. Rendering stops as
   * soon as it is too long, so a large listing costs at most that much twice.
   */
  static byte[] renderSmall(List<Event> entries, Instant now, ZoneId zone) {
    StringBuilder whole = new StringBuilder(256).append('[');
    for (int i = 0; i < entries.size(); i++) {
      if (i > 0) {
        whole.append(',');
      }
      whole.append(V1Json.eventText(entries.get(i), now, zone));
      if (whole.length() > CHUNK_BYTES) {
        return null;
      }
    }
    return whole.append(']').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The listing as a chunked body; its exact length is counted first, with the same {@code now}. */
  static ListingBody of(List<Event> entries, Instant now, ZoneId zone) {
    long length = 2 + Math.max(0, entries.size() - 1); // brackets and commas
    for (Event e : entries) {
      length += ByteBufUtil.utf8Bytes(V1Json.eventText(e, now, zone));
    }
    return new ListingBody(entries, now, zone, length);
  }

  @Override
  public boolean isEndOfInput() {
    return ended;
  }

  @Override
  public void close() {
    ended = true;
  }

  @Deprecated
  @Override
  public ByteBuf readChunk(ChannelHandlerContext ctx) {
    return readChunk(ctx.alloc());
  }

  @Override
  public ByteBuf readChunk(ByteBufAllocator allocator) {
    if (ended) {
      return null;
    }
    ByteBuf chunk = allocator.buffer(CHUNK_BYTES + 1024);
    if (next == 0) {
      chunk.writeByte('[');
    }
    while (next < entries.size() && chunk.readableBytes() < CHUNK_BYTES) {
      if (next > 0) {
        chunk.writeByte(',');
      }
      ByteBufUtil.writeUtf8(chunk, V1Json.eventText(entries.get(next++), now, zone));
    }
    if (next == entries.size()) {
      chunk.writeByte(']');
      ended = true;
    }
    written += chunk.readableBytes();
    return chunk;
  }

  /** The body's length in bytes. */
  @Override
  public long length() {
    return length;
  }

  @Override
  public long progress() {
    return written;
  }
}
