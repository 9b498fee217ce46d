package dev.guestmem.cli;

import dev.guestmem.perf.PerfCell;
import dev.guestmem.perf.PerfTest;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code --chart}: one panel per test, time against slot count on log-log axes, one series per
 * implementation, written as a PNG grid.
 */
final class PerfChart {
    private static final int PANEL_WIDTH = 520;
    private static final int PANEL_HEIGHT = 360;
    private static final int COLUMNS = 2;

    private PerfChart() {
    }

    static void write(Path file, List<PerfTest> tests, List<String> impls, List<PerfCell> cells) throws IOException {
        // Rendering needs no display.
        System.setProperty("java.awt.headless", "true");
        List<XYChart> panels = new ArrayList<>();
        for (PerfTest t : tests) {
            XYChart chart = new XYChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT)
                    .title(t == PerfTest.SETUP ? "setup (total)" : t.cliName() + " (per iteration)")
                    .xAxisTitle("data slots").yAxisTitle("seconds").build();
            chart.getStyler().setXAxisLogarithmic(true).setYAxisLogarithmic(true).setLegendVisible(true);
            for (String impl : impls) {
                List<PerfCell> points = cells.stream()
                        .filter(c -> c.test() == t && c.impl().equals(impl) && c.isMeasured()).toList();
                if (!points.isEmpty()) {
                    XYSeries series = chart.addSeries(impl, points.stream().map(c -> (double) c.slots()).toList(),
                            points.stream().map(PerfCell::seconds).toList());
                    series.setMarker(SeriesMarkers.CIRCLE);
                }
            }
            if (!chart.getSeriesMap().isEmpty()) {
                panels.add(chart);
            }
        }
        if (panels.isEmpty()) {
            throw new IOException("nothing was measured, so there is no chart to draw");
        }
        int columns = Math.min(COLUMNS, panels.size());
        int rows = (panels.size() + columns - 1) / columns;
        // Composed here rather than by BitmapEncoder's grid, which needs a full last row.
        BufferedImage grid = new BufferedImage(columns * PANEL_WIDTH, rows * PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        for (int i = 0; i < panels.size(); i++) {
            g.drawImage(BitmapEncoder.getBufferedImage(panels.get(i)), i % columns * PANEL_WIDTH,
                    i / columns * PANEL_HEIGHT, null);
        }
        g.dispose();
        ImageIO.write(grid, "png", file.toFile());
    }
}
