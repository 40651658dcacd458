// The parts of ECharts the dashboard uses (bar and pie charts with
// tooltip, legend and grid, drawn on canvas), bundled by esbuild into
// public/echarts.min.js: about half the full build's gzipped size. Each chart
// box carries its own description for screen readers (built on the server).
import * as echarts from 'echarts/core';
import { BarChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);
window.echarts = echarts;
