package org.etcdjvm.embedded.internal.store;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Shared primitives of the store's binary formats (Raft commands and snapshots).
 *
 * <p>Strings round-trip exactly, lone surrogates included: well-formed strings travel as UTF-8,
 * the rare malformed ones as raw UTF-16 so that every replica decodes the identical value.
 */
final class BinaryIO {
  private static final int NULL = 0;
  private static final int UTF8 = 1;
  private static final int UTF16 = 2;
  /** Upper bound on a decoded string, so a corrupt length cannot make us allocate gigabytes. */
  private static final int MAX_STRING_BYTES = 64 << 20;

  private BinaryIO() {}

  static void writeString(DataOutput out, String s) throws IOException {
    if (s == null) {
      out.writeByte(NULL);
    } else if (isWellFormed(s)) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      out.writeByte(UTF8);
      out.writeInt(b.length);
      out.write(b);
    } else {
      out.writeByte(UTF16);
      out.writeInt(s.length());
      out.writeChars(s);
    }
  }

  static String readString(DataInput in) throws IOException {
    int tag = in.readUnsignedByte();
    switch (tag) {
      case NULL:
        return null;
      case UTF8: {
        byte[] b = new byte[checkedLength(in.readInt(), 1)];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
      }
      case UTF16: {
        int len = checkedLength(in.readInt(), 2);
        char[] c = new char[len];
        for (int i = 0; i < len; i++) {
          c[i] = in.readChar();
        }
        return new String(c);
      }
      default:
        throw new IOException("corrupt string tag " + tag);
    }
  }

  static String readNonNullString(DataInput in) throws IOException {
    String s = readString(in);
    if (s == null) {
      throw new IOException("corrupt data: unexpected null string");
    }
    return s;
  }

  static void writeInstant(DataOutput out, Instant t) throws IOException {
    if (t == null) {
      out.writeBoolean(false);
    } else {
      out.writeBoolean(true);
      out.writeLong(t.getEpochSecond());
      out.writeInt(t.getNano());
    }
  }

  static Instant readInstant(DataInput in) throws IOException {
    if (!in.readBoolean()) {
      return null;
    }
    long seconds = in.readLong();
    int nanos = in.readInt();
    try {
      return Instant.ofEpochSecond(seconds, nanos);
    } catch (RuntimeException e) {
      throw new IOException("corrupt instant " + seconds + "s " + nanos + "ns", e);
    }
  }

  static void writeEvent(DataOutput out, Event e) throws IOException {
    out.writeByte(e.action().ordinal());
    writeString(out, e.key());
    out.writeByte((e.dir() ? 1 : 0) | (e.newKey() ? 2 : 0));
    writeString(out, e.prevValue());
    writeString(out, e.value());
    writeInstant(out, e.expiration());
    out.writeLong(e.index());
  }

  static Event readEvent(DataInput in) throws IOException {
    int a = in.readUnsignedByte();
    Action[] actions = Action.values();
    if (a >= actions.length) {
      throw new IOException("corrupt action " + a);
    }
    String key = readNonNullString(in);
    int flags = in.readUnsignedByte();
    String prev = readString(in);
    String value = readString(in);
    Instant exp = readInstant(in);
    long index = in.readLong();
    return new Event(actions[a], key, (flags & 1) != 0, prev, value, (flags & 2) != 0, exp, index);
  }

  static boolean isWellFormed(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return false;
        }
      }
    }
    return true;
  }

  private static int checkedLength(int len, int unit) throws IOException {
    if (len < 0 || (long) len * unit > MAX_STRING_BYTES) {
      throw new IOException("corrupt string length " + len);
    }
    return len;
  }
}
