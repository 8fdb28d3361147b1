import "./lib/polyfills";
import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

const target = document.getElementById("app");
if (!target) throw new Error("elemen #app tidak ditemukan");

export default mount(App, { target });
