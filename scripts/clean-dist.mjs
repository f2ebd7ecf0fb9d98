// Removes ./dist of the package it runs in, before tsup writes its several builds into it.
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
