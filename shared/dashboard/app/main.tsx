// The dashboard's entry: mounts the app into the page the serving function answers with.
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

function App() {
  return <h1>Faultline</h1>;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
