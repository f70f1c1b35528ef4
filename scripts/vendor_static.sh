#!/usr/bin/env bash
# Copy the dist files of the pinned npm packages into static/vendor/ (committed), so that
# neither CI nor production needs Node and no page loads anything from a CDN.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
version() { node -p "require('./node_modules/$1/package.json').version"; }
dest=static/vendor
rm -rf "$dest" && mkdir -p "$dest"
bs="$dest/bootstrap-$(version bootstrap)"
mkdir -p "$bs"
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$bs/"
bi="$dest/bootstrap-icons-$(version bootstrap-icons)"
mkdir -p "$bi/fonts"
cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css "$bi/"
cp node_modules/bootstrap-icons/font/fonts/* "$bi/fonts/"
cj="$dest/chart.js-$(version chart.js)"
mkdir -p "$cj"
cp node_modules/chart.js/dist/chart.umd.min.js "$cj/"
find "$dest" -type f | sort
