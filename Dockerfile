# The rainbow image: every role (webhook, controller, reporter, status, the demo app) behind one
# entrypoint, the `rainbow` CLI. Build: docker build --build-arg COLOR=$(git rev-parse --short=6 HEAD) -t rainbow:<tag> .

# --- build: dev dependencies and the TypeScript compiler --------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.image.json ./
COPY webhook/src webhook/src
COPY app/src app/src
RUN npx tsc -p tsconfig.image.json

# --- run: production dependencies only, non-root --------------------------------------------
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
RUN ln -s /app/dist/webhook/src/cli.js /usr/local/bin/rainbow && chmod 0755 /app/dist/webhook/src/cli.js
# The demo app's color when the chart does not set RAINBOW_COLOR (the seed baked it in the same way).
ARG COLOR=808080
ENV COLOR=${COLOR}
# 65532: the conventional "nonroot" uid; the charts run with runAsNonRoot and a read-only root fs.
USER 65532:65532
ENTRYPOINT ["rainbow"]
CMD ["--help"]
