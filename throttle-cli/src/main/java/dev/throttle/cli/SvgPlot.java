package dev.throttle.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code --plot FILE.svg}: a {@link Timeline} drawn as SVG, written by hand (a few rectangles and polylines need no
 * charting library). Per 100 ms, three bars side by side: attempts sent, answered 2xx, answered 429 (and a grey one
 * for other ends, when there were any); attempts in flight as a step line; the allowed rate, converted to requests
 * per 100 ms, as a dashed line. Each series is a {@code <g>} with its name as {@code id} and its values in
 * {@code data-values}, so that a program can read the picture back.
 */
final class SvgPlot {

  private static final int HEIGHT = 380;
  private static final int LEFT = 56;
  private static final int RIGHT = 150;
  private static final int TOP = 40;
  private static final int BOTTOM = 46;

  private SvgPlot() {}

  /**
   * Writes the picture of {@code bins} to {@code file}.
   *
   * @param allowedPerSecond the allowed rate, in requests per second (NaN or 0 for none)
   * @throws IOException if the file cannot be written
   */
  static void write(Path file, String title, Timeline.Bins bins, double allowedPerSecond) throws IOException {
    Files.writeString(file, render(title, bins, allowedPerSecond), StandardCharsets.UTF_8);
  }

  static String render(String title, Timeline.Bins bins, double allowedPerSecond) {
    int n = Math.max(1, bins.size());
    boolean others = max(bins.other()) > 0;
    int bars = others ? 4 : 3;
    double binWidth = Math.max(4, Math.min(24, 1400.0 / n));
    double plotW = binWidth * n;
    double plotH = HEIGHT - TOP - BOTTOM;
    double allowedPerBin = allowedPerSecond > 0 ? allowedPerSecond * Timeline.BIN_NANOS / 1e9 : 0;
    int top = Math.max(1, Math.max(Math.max(max(bins.sent()), max(bins.inFlight())),
        Math.max(Math.max(max(bins.ok()), max(bins.tooMany())), (int) Math.ceil(allowedPerBin))));
    int yMax = niceCeiling(top);
    double width = LEFT + plotW + RIGHT;
    StringBuilder s = new StringBuilder(16_384);
    s.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.append(fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%d\" viewBox=\"0 0 %.0f %d\" "
        + "font-family=\"sans-serif\" font-size=\"12\">\n", width, HEIGHT, width, HEIGHT));
    s.append(fmt("<rect width=\"%.0f\" height=\"%d\" fill=\"white\"/>\n", width, HEIGHT));
    s.append(fmt("<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>\n", LEFT, escape(title)));
    // axes and grid
    s.append("<g id=\"axes\" stroke=\"#999\" stroke-width=\"1\">\n");
    int yStep = Math.max(1, yMax / 5);
    for (int y = 0; y <= yMax; y += yStep) {
      double py = TOP + plotH - plotH * y / yMax;
      s.append(fmt("<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n", LEFT, py, LEFT + plotW, py,
          y == 0 ? "#444" : "#e4e4e4"));
      s.append(fmt("<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" stroke=\"none\" fill=\"#333\">%d</text>\n",
          LEFT - 6, py + 4, y));
    }
    int secondStep = Math.max(1, (int) Math.ceil(n / 10.0 / 20)); // at most about 20 labels
    for (int sec = 0; sec * 10 <= n; sec += secondStep) {
      double px = LEFT + sec * 10 * binWidth;
      s.append(fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", px, TOP + plotH, px,
          TOP + plotH + 5));
      s.append(fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" stroke=\"none\" fill=\"#333\">%d s</text>\n",
          px, TOP + plotH + 18, sec));
    }
    s.append("</g>\n");
    s.append(fmt("<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">time since the first request "
        + "(bins of 100 ms)</text>\n", LEFT + plotW / 2, HEIGHT - 8));
    s.append(fmt("<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">"
        + "requests per 100 ms / in flight</text>\n", TOP + plotH / 2));
    // bars
    double barW = binWidth * 0.9 / bars;
    bars(s, "sent", "#3b6fd8", bins.sent(), 0, barW, binWidth, plotH, yMax);
    bars(s, "ok", "#2e9e48", bins.ok(), 1, barW, binWidth, plotH, yMax);
    bars(s, "too-many", "#d8342c", bins.tooMany(), 2, barW, binWidth, plotH, yMax);
    if (others) {
      bars(s, "other", "#888888", bins.other(), 3, barW, binWidth, plotH, yMax);
    }
    // in flight: a step line
    StringBuilder points = new StringBuilder();
    int[] f = bins.inFlight();
    for (int i = 0; i < f.length; i++) {
      double py = TOP + plotH - plotH * f[i] / yMax;
      points.append(fmt("%.1f,%.1f %.1f,%.1f ", LEFT + i * binWidth, py, LEFT + (i + 1) * binWidth, py));
    }
    s.append(fmt("<g id=\"in-flight\" class=\"series\" data-values=\"%s\">\n", join(f)));
    s.append(fmt("<polyline fill=\"none\" stroke=\"#e08a00\" stroke-width=\"2\" points=\"%s\"/>\n",
        points.toString().trim()));
    s.append("</g>\n");
    // the allowed rate
    if (allowedPerBin > 0) {
      double py = TOP + plotH - plotH * allowedPerBin / yMax;
      s.append(fmt("<g id=\"allowed\" class=\"series\" data-values=\"%s\">\n", num(allowedPerBin)));
      s.append(fmt("<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\" stroke-width=\"1.5\" "
          + "stroke-dasharray=\"6 4\"/>\n", LEFT, py, LEFT + plotW, py));
      s.append("</g>\n");
    }
    // legend
    double lx = LEFT + plotW + 16;
    String[][] legend = {
        {"#3b6fd8", "sent"}, {"#2e9e48", "answered 2xx"}, {"#d8342c", "answered 429"},
        others ? new String[] {"#888888", "other / no answer"} : null,
        {"#e08a00", "in flight"},
        allowedPerBin > 0 ? new String[] {"black", "allowed " + num(allowedPerSecond) + "/s"} : null};
    s.append("<g id=\"legend\">\n");
    double ly = TOP + 6;
    for (String[] item : legend) {
      if (item == null) {
        continue;
      }
      if (item[1].startsWith("in flight") || item[1].startsWith("allowed")) {
        s.append(fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
            lx, ly, lx + 14, ly, item[0], item[1].startsWith("allowed") ? " stroke-dasharray=\"4 3\"" : ""));
      } else {
        s.append(fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%s\"/>\n", lx, ly - 5, item[0]));
      }
      s.append(fmt("<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", lx + 20, ly + 4, escape(item[1])));
      ly += 20;
    }
    s.append("</g>\n</svg>\n");
    return s.toString();
  }

  private static void bars(StringBuilder s, String id, String colour, int[] values, int slot, double barW,
      double binWidth, double plotH, int yMax) {
    s.append(fmt("<g id=\"%s\" class=\"series\" fill=\"%s\" data-values=\"%s\">\n", id, colour, join(values)));
    for (int i = 0; i < values.length; i++) {
      if (values[i] == 0) {
        continue;
      }
      double h = plotH * values[i] / yMax;
      s.append(fmt("<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\"/>\n",
          LEFT + i * binWidth + binWidth * 0.05 + slot * barW, TOP + plotH - h, barW, h));
    }
    s.append("</g>\n");
  }

  /** 1, 2, 5, 10, 20, 50, ... at or above {@code v}. */
  static int niceCeiling(int v) {
    for (long m = 1; ; m *= 10) {
      for (int k : new int[] {1, 2, 5}) {
        if (k * m >= v) {
          return (int) Math.min(Integer.MAX_VALUE, k * m);
        }
      }
    }
  }

  private static int max(int[] a) {
    int m = 0;
    for (int v : a) {
      m = Math.max(m, v);
    }
    return m;
  }

  private static String join(int[] a) {
    StringBuilder b = new StringBuilder(a.length * 2);
    for (int i = 0; i < a.length; i++) {
      if (i > 0) {
        b.append(' ');
      }
      b.append(a[i]);
    }
    return b.toString();
  }

  private static String num(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%.3f", d).replaceAll("0+$", "");
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
