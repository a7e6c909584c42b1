package org.etcdjvm.embedded.internal.http;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.Event;

/**
 * Byte-exact etcd 0.1.x JSON bodies (v1-api.md Part B §1.3, §2, §11), as Go's {@code encoding/json}
 * wrote them: compact, struct field order, {@code omitempty}.
 *
 * <p>Stateless and thread-safe; hand-written with a {@link StringBuilder} because it is on the hot
 * path. {@code now} is the instant the response is rendered (it fixes {@code ttl}); {@code zone} is
 * the server's zone for {@code expiration} (etcd printed local time). Null arguments other than
 * {@code cause} fail with {@link NullPointerException}.
 */
public final class V1Json {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private V1Json() {}

  /**
   * One response object: {@code action, key, dir?, prevValue?, value?, newKey?, expiration?, ttl?,
   * index}. {@code ttl} = (expiration − now) truncated to whole seconds, only on SET and GET, left out
   * when &le; 0.
   */
  public static byte[] event(Event e, Instant now, ZoneId zone) {
    return utf8(eventText(e, now, zone));
  }

  /** {@link #event} as text, for a caller that encodes it into a buffer of its own. */
  static StringBuilder eventText(Event e, Instant now, ZoneId zone) {
    StringBuilder sb = new StringBuilder(96 + length(e.value()) + length(e.prevValue()));
    appendEvent(sb, e, now, zone);
    return sb;
  }

  /** A JSON array of response objects ({@code "[]"} if empty), e.g. a directory listing. */
  public static byte[] events(List<Event> list, Instant now, ZoneId zone) {
    StringBuilder sb = new StringBuilder(2 + 96 * list.size());
    sb.append('[');
    for (int i = 0; i < list.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      appendEvent(sb, list.get(i), now, zone);
    }
    sb.append(']');
    return utf8(sb);
  }

  /**
   * {@code {"errorCode":N,"message":"...","cause":"..."}} followed by {@code "\n"} (Go's
   * {@code http.Error} framing); {@code cause} is left out when null or empty.
   */
  public static byte[] error(EtcdError err, String cause) {
    StringBuilder sb = new StringBuilder(96 + length(cause));
    sb.append("{\"errorCode\":").append(err.code()).append(",\"message\":");
    writeString(sb, err.message());
    if (cause != null && !cause.isEmpty()) {
      sb.append(",\"cause\":");
      writeString(sb, cause);
    }
    sb.append("}\n");
    return utf8(sb);
  }

  /**
   * Go time.Time RFC3339Nano: up to 9 fraction digits, trailing zeros trimmed (no '.' if 0), offset
   * {@code ±hh:mm} or {@code Z} for a zero offset. The offset is that of {@code zone} at {@code t}.
   */
  public static String expiration(Instant t, ZoneId zone) {
    StringBuilder sb = new StringBuilder(35);
    appendTime(sb, t, zone);
    return sb.toString();
  }

  /**
   * Go encoding/json escaping: {@code \" \\ \n \r \t}, other chars below 0x20 as
   * <code>&#92;u00XX</code>, '&lt;' '&gt;' '&amp;' as <code>&#92;u003c &#92;u003e &#92;u0026</code>,
   * U+2028/2029 as <code>&#92;u2028 &#92;u2029</code>, lone surrogates as <code>&#92;ufffd</code>.
   * Appends the quoted string; other characters are copied as is.
   */
  public static void writeString(StringBuilder sb, String s) {
    sb.append('"');
    int n = s.length();
    int start = 0; // start of the pending run of characters that need no escaping
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      String escape;
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x2028) {
        continue;
      }
      switch (c) {
        case '"':
          escape = "\\\"";
          break;
        case '\\':
          escape = "\\\\";
          break;
        case '\n':
          escape = "\\n";
          break;
        case '\r':
          escape = "\\r";
          break;
        case '\t':
          escape = "\\t";
          break;
        case (char) 0x2028:
          escape = "\\u2028";
          break;
        case (char) 0x2029:
          escape = "\\u2029";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            escape = null; // hex escape below
          } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
            i++; // a valid pair: copied as is
            continue;
          } else if (Character.isSurrogate(c)) {
            escape = "\\ufffd";
          } else {
            continue; // any other char >= U+2028
          }
      }
      sb.append(s, start, i);
      if (escape != null) {
        sb.append(escape);
      } else {
        sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
      start = i + 1;
    }
    sb.append(s, start, n);
    sb.append('"');
  }

  // ------------------------------------------------------------------ internals

  private static void appendEvent(StringBuilder sb, Event e, Instant now, ZoneId zone) {
    sb.append("{\"action\":\"").append(e.action().name()).append("\",\"key\":");
    writeString(sb, e.key());
    if (e.dir()) {
      sb.append(",\"dir\":true");
    }
    if (e.prevValue() != null && !e.prevValue().isEmpty()) {
      sb.append(",\"prevValue\":");
      writeString(sb, e.prevValue());
    }
    if (e.value() != null && !e.value().isEmpty()) {
      sb.append(",\"value\":");
      writeString(sb, e.value());
    }
    if (e.newKey()) {
      sb.append(",\"newKey\":true");
    }
    Instant exp = e.expiration();
    if (exp != null) {
      sb.append(",\"expiration\":\"");
      appendTime(sb, exp, zone);
      sb.append('"');
      if (e.action() != Action.DELETE) {
        long ttl = ttlSeconds(exp, now);
        if (ttl > 0) {
          sb.append(",\"ttl\":").append(ttl);
        }
      }
    }
    sb.append(",\"index\":").append(e.index()).append('}');
  }

  /** Go's int64(exp.Sub(now) / time.Second): truncated toward zero. */
  private static long ttlSeconds(Instant exp, Instant now) {
    long seconds = exp.getEpochSecond() - now.getEpochSecond();
    long nanos = exp.getNano() - now.getNano();
    if (seconds > 0 && nanos < 0) {
      seconds--;
    } else if (seconds < 0 && nanos > 0) {
      seconds++;
    }
    return seconds;
  }

  private static void appendTime(StringBuilder sb, Instant t, ZoneId zone) {
    ZoneOffset offset = zone instanceof ZoneOffset fixed ? fixed : zone.getRules().getOffset(t);
    LocalDateTime local = LocalDateTime.ofEpochSecond(t.getEpochSecond(), t.getNano(), offset);
    int year = local.getYear();
    if (year < 0) {
      sb.append('-');
      year = -year;
    }
    pad(sb, year, 4).append('-');
    pad(sb, local.getMonthValue(), 2).append('-');
    pad(sb, local.getDayOfMonth(), 2).append('T');
    pad(sb, local.getHour(), 2).append(':');
    pad(sb, local.getMinute(), 2).append(':');
    pad(sb, local.getSecond(), 2);
    int nano = t.getNano();
    if (nano != 0) {
      int digits = 9;
      while (nano % 10 == 0) {
        nano /= 10;
        digits--;
      }
      sb.append('.');
      pad(sb, nano, digits);
    }
    int minutes = offset.getTotalSeconds() / 60; // Go drops the seconds of an offset
    if (minutes == 0 && offset.getTotalSeconds() == 0) {
      sb.append('Z');
      return;
    }
    if (offset.getTotalSeconds() < 0) {
      sb.append('-');
      minutes = -minutes;
    } else {
      sb.append('+');
    }
    pad(sb, minutes / 60, 2).append(':');
    pad(sb, minutes % 60, 2);
  }

  private static StringBuilder pad(StringBuilder sb, int value, int width) {
    int limit = 10;
    for (int i = 1; i < width; i++, limit *= 10) {
      if (value < limit) {
        sb.append('0');
      }
    }
    return sb.append(value);
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }

  private static byte[] utf8(StringBuilder sb) {
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }
}
