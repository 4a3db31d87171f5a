# syntax=docker/dockerfile:1
# One image for both processes: `node dist/main.js` (api, the default) and `node dist/worker.js`.
# `npm install`, not `npm ci`: a lockfile made on one platform lacks other platforms' optional
# binaries and `npm ci` refuses it (shared/STACK.md).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json* ./
RUN npm install --no-audit --no-fund
COPY nest-cli.json tsconfig.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json* ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# A new named volume mounted here copies this directory's owner, so the node user can write uploads.
RUN mkdir -p /data/uploads && chown node:node /data/uploads
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||3000,path:'/health',timeout:4000},(r)=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
CMD ["node", "--single-threaded-gc", "--max-semi-space-size=2", "dist/main.js"]
