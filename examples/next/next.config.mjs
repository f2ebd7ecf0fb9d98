/** @type {import("next").NextConfig} */
const nextConfig = {
  // No image optimisation, so the build never needs `sharp` (pnpm 10 skips its install script).
  images: { unoptimized: true },
  poweredByHeader: false,
  // A one-off CI build gains nothing from writing Turbopack's persistent cache (~10 s on 2 cores).
  experimental: { turbopackFileSystemCacheForBuild: false },
};

export default nextConfig;
