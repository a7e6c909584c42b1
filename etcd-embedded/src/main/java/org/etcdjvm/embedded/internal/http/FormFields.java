package org.etcdjvm.embedded.internal.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The form fields of one request, read the way Go's {@code req.ParseForm()} + {@code Form.Get}
 * read them for etcd 0.1.x: fields of an {@code application/x-www-form-urlencoded} body come first,
 * then those of the query string, and the first occurrence of a name wins (so a body value beats a
 * query value). Not thread-safe; lives for one request.
 *
 * <p>Differences from Go, on purpose: only {@code &} separates pairs ({@code ;} is an ordinary
 * character, as in Go 1.17+), and a value whose escapes are malformed or whose bytes are not UTF-8
 * is kept as <em>invalid</em> instead of being altered, so the caller can answer error 209. A pair
 * whose <em>name</em> is invalid cannot be a field we know and is dropped.
 *
 * <p>Parsing is linear in the input: each pair is scanned once, and it stops after a maximum
 * number of pairs ({@link #tooManyFields()}), so a body of {@code a&a&a&...} costs no more than
 * reading it.
 */
final class FormFields {
  /** Marks a field that was sent but could not be decoded. Compared by identity. */
  private static final String INVALID = new String("<invalid>");

  private static final String FORM_URLENCODED = "application/x-www-form-urlencoded";

  private final List<String> names = new ArrayList<>(4);
  private final List<String> values = new ArrayList<>(4);
  private final int maxFields;
  /** Pairs seen, including those dropped for an undecodable name. */
  private int pairs;
  private boolean tooMany;

  private FormFields(int maxFields) {
    this.maxFields = maxFields;
  }

  /**
   * Reads the fields of {@code request}: its body when {@code readBody} is true and the body is
   * form-urlencoded (any other body is ignored, as Go does), then {@code rawQuery}. Stops after
   * {@code maxFields} fields (body and query together); {@link #tooManyFields()} then says so.
   */
  static FormFields of(HttpRequest request, ByteBuf body, String rawQuery, boolean readBody, int maxFields) {
    FormFields form = new FormFields(maxFields);
    if (readBody && body.isReadable() && isFormUrlEncoded(request.headers().get(HttpHeaderNames.CONTENT_TYPE))) {
      form.addAll(body);
    }
    if (rawQuery != null) {
      form.addAll(rawQuery);
    }
    return form;
  }

  /** Parses {@code encoded} alone, as a query string, with no limit on the number of fields. */
  static FormFields parse(String encoded) {
    return parse(encoded, Integer.MAX_VALUE);
  }

  /** Parses {@code encoded} alone, as a query string, reading at most {@code maxFields} fields. */
  static FormFields parse(String encoded, int maxFields) {
    FormFields form = new FormFields(maxFields);
    form.addAll(encoded);
    return form;
  }

  /**
   * Whether the input held more than the maximum number of fields. The fields past the limit were
   * not read, so the caller must refuse the request rather than act on a partial form.
   */
  boolean tooManyFields() {
    return tooMany;
  }

  /** Whether a {@code Content-Type} value names a form-urlencoded body; parameters are allowed. */
  static boolean isFormUrlEncoded(String contentType) {
    if (contentType == null) {
      return false;
    }
    int end = contentType.indexOf(';');
    if (end < 0) {
      end = contentType.length();
    }
    int start = 0;
    while (start < end && isSpace(contentType.charAt(start))) {
      start++;
    }
    while (end > start && isSpace(contentType.charAt(end - 1))) {
      end--;
    }
    return end - start == FORM_URLENCODED.length()
        && contentType.regionMatches(true, start, FORM_URLENCODED, 0, FORM_URLENCODED.length());
  }

  private static boolean isSpace(char c) {
    return c == ' ' || c == '\t';
  }

  private void addAll(String encoded) {
    addAll(Unpooled.wrappedBuffer(encoded.getBytes(StandardCharsets.ISO_8859_1)));
  }

  /**
   * Reads the pairs of {@code encoded} where they lie, each pair scanned once: only the pairs read
   * are copied out, so a 2 MiB body refused after its first 1 000 fields costs a few kilobytes.
   * (Looking for '=' from each pair to the end of the input made {@code a&a&a&...} quadratic: 50 s
   * for 2 MiB.)
   */
  private void addAll(ByteBuf encoded) {
    int start = encoded.readerIndex();
    int length = encoded.writerIndex();
    while (start <= length && !tooMany) {
      int amp = encoded.indexOf(start, length, (byte) '&');
      int end = amp < 0 ? length : amp;
      if (end > start) {
        if (pairs == maxFields) {
          tooMany = true;
          return;
        }
        pairs++;
        String pair = encoded.toString(start, end - start, StandardCharsets.ISO_8859_1);
        int eq = pair.indexOf('=');
        eq = eq < 0 ? pair.length() : eq;
        String name = UrlDecoding.decodeFormComponent(pair, 0, eq);
        if (name != null) {
          String value = eq == pair.length() ? "" : UrlDecoding.decodeFormComponent(pair, eq + 1, pair.length());
          names.add(name);
          values.add(value == null ? INVALID : value);
        }
      }
      start = end + 1;
    }
  }

  /** Whether the field was sent at all (possibly empty, possibly invalid). */
  boolean has(String name) {
    return names.contains(name);
  }

  /** Whether the first occurrence of the field could not be decoded. */
  boolean isInvalid(String name) {
    int i = names.indexOf(name);
    return i >= 0 && values.get(i) == INVALID;
  }

  /** The decoded value of the first occurrence, or null when absent or invalid. */
  String get(String name) {
    int i = names.indexOf(name);
    if (i < 0) {
      return null;
    }
    String value = values.get(i);
    return value == INVALID ? null : value;
  }
}
